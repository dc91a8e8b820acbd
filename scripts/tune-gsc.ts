/**
 * The real search of issue 9: small BC-ResNets (at most ~10k parameters) on a Speech Commands
 * folder, searching width, dropout, front end (mels, window, hop), learning rate, weight decay
 * and SpecAugment masks with successive halving, then writing the report. Not part of the test
 * suite.
 *
 *   npx tsx scripts/tune-gsc.ts [dataDir] [--backend wasm|cpu] [--trials 12] [--min-epochs 3]
 *     [--max-epochs 27] [--eta 3] [--max-params 10000] [--seed 0] [--limit N] [--val-limit N]
 *     [--micro-batch 50] [--journal FILE] [--out-dir DIR] [--hand bench/results/train-gsc-bc-resnet-1.json]
 *     [--cache-dir DIR] [--logger auto|json|silent]
 *
 * Defaults: 12 configurations trained 3 epochs, the best 4 continued to 9, the best one to 27:
 * 12·3 + 4·6 + 1·18 = 78 epochs, about 1.5–2 h on gsc-dev (3,605 training clips) with the wasm
 * backend on an idle 2-core machine (BC-ResNet-1 trains ≈ 60 clips/s there; smaller widths are
 * faster). The journal (default /tmp/kws-tune-gsc/journal.jsonl, checkpoints next to it) makes
 * the run resumable: start it again with the same options after an interruption.
 *
 * Writes, under `--out-dir` (default: the repository): docs/tuning.md, docs/img/tuning-pareto.svg,
 * bench/results/tuning.json and bench/results/tuned-recipe.json. `--limit` / `--val-limit` take
 * seeded subsets, for a quick check that everything runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadSpeechCommands, type Split } from '../src/data/index.js';
import { SMALL_BC_RESNET_BASE, SMALL_BC_RESNET_SPACE, showSpace } from '../src/models/tune/search-space.js';
import { writeTuneReport } from '../src/models/tune/tune-output.js';
import { tuneMarkdown } from '../src/models/tune/tune-report.js';
import { tune } from '../src/models/tune.js';
import { dataFolder, parseArgs, selectBackend, subset } from './script-args.js';

const { positional, flags } = parseArgs(process.argv.slice(2), []);
const num = (key: string, fallback: number): number => (flags.has(key) ? Number(flags.get(key)) : fallback);
const dataDir = dataFolder(positional, 'tune-gsc.ts');
const backend = flags.get('backend') ?? 'wasm';
const seed = num('seed', 0);
const maxParams = num('max-params', 10_000);
const budget = {
  trials: num('trials', 12),
  minEpochs: num('min-epochs', 3),
  maxEpochs: num('max-epochs', 27),
  eta: num('eta', 3),
};
const outDir = flags.get('out-dir') ?? '.';
const journal = flags.get('journal') ?? '/tmp/kws-tune-gsc/journal.jsonl';
const handFile = flags.get('hand') ?? 'bench/results/train-gsc-bc-resnet-1.json';

await selectBackend(backend);
const started = performance.now();
const data = await loadSpeechCommands(dataDir, {
  splits: ['train', 'validation'],
  keepAudio: true,
  ...(flags.has('cache-dir') ? { cacheDir: flags.get('cache-dir') as string } : {}),
});
const train = subset(data.splits.train as Split, num('limit', Number.POSITIVE_INFINITY), seed);
const validation = subset(
  data.splits.validation as Split,
  num('val-limit', Number.POSITIVE_INFINITY),
  seed + 1,
);

const result = await tune({
  space: SMALL_BC_RESNET_SPACE,
  base: SMALL_BC_RESNET_BASE,
  strategy: 'halving',
  budget,
  constraints: { maxParams },
  seed,
  data: {
    train,
    validation,
    backgroundNoise: data.backgroundNoise,
    ...(flags.has('micro-batch') ? { microBatchSize: num('micro-batch', 50) } : { microBatchSize: 50 }),
  },
  journal,
  logger: (flags.get('logger') ?? 'auto') as 'auto' | 'json' | 'silent',
});
const minutes = (performance.now() - started) / 60000;
/** Time the trials took, over every session of the search (from their records). */
const trialMinutes = result.trials.reduce((sum, t) => sum + t.seconds, 0) / 60;

// The hand-written recipe to compare with (BC-ResNet-1, scripts/train-gsc.ts).
interface HandRun {
  parameters: { all: number; macs: number };
  bestValidationAccuracy: number;
  recipe: { epochs: number };
  trainingSeconds: number;
  history?: { epoch: number; validationAccuracy?: number }[];
}

/** The hand run's best validation accuracy within its first `epochs` epochs (null without history). */
function handBestWithin(run: HandRun, epochs: number): number | null {
  const seen = (run.history ?? []).filter((h) => h.epoch <= epochs && h.validationAccuracy !== undefined);
  return seen.length === 0 ? null : Math.max(...seen.map((h) => h.validationAccuracy as number));
}
const hand: HandRun | null = existsSync(handFile)
  ? (JSON.parse(readFileSync(handFile, 'utf8')) as HandRun)
  : null;
const reference =
  hand === null
    ? []
    : [
        {
          label: 'BC-ResNet-1 (hand recipe)',
          macs: hand.parameters.macs,
          accuracy: hand.bestValidationAccuracy,
        },
      ];

const paths = {
  json: join(outDir, 'bench/results/tuning.json'),
  svg: join(outDir, 'docs/img/tuning-pareto.svg'),
  recipe: join(outDir, 'bench/results/tuned-recipe.json'),
  markdown: join(outDir, 'docs/tuning.md'),
};
await writeTuneReport(result, {
  json: paths.json,
  svg: paths.svg,
  recipe: paths.recipe,
  reference,
  title: `Validation accuracy vs MACs (models ≤ ${maxParams} params)`,
});

// docs/tuning.md: setup, the verdict against the hand recipe, the front and the table.
const best = result.best;
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const trained = result.trials.filter((t) => t.status === 'ok').length;
const pruned = result.trials.filter((t) => t.status === 'pruned').length;
const invalid = result.trials.filter((t) => t.status === 'invalid').length;
let verdict = 'No configuration trained, so there is nothing to compare.';
if (best !== null && hand !== null) {
  const accuracy = best.accuracy as number;
  const cheaper =
    (best.params ?? Number.POSITIVE_INFINITY) <= hand.parameters.all &&
    (best.macs ?? Number.POSITIVE_INFINITY) <= hand.parameters.macs;
  const beat = cheaper && accuracy >= hand.bestValidationAccuracy;
  verdict = beat
    ? `The search **beat** the hand recipe: ${pct(accuracy)} against ${pct(hand.bestValidationAccuracy)} with ` +
      `${best.params} instead of ${hand.parameters.all} parameters and ${(best.macs ?? 0) / 1e6} M instead of ` +
      `${hand.parameters.macs / 1e6} M MACs.`
    : `The search **did not beat** the hand recipe: its best model reached ${pct(accuracy)} after ${best.epochs} ` +
      `epochs (${best.params} params, ${((best.macs ?? 0) / 1e6).toFixed(3)} M MACs) against ` +
      `${pct(hand.bestValidationAccuracy)} for BC-ResNet-1 after ${hand.recipe.epochs} epochs ` +
      `(${hand.parameters.all} params, ${(hand.parameters.macs / 1e6).toFixed(3)} M MACs). ` +
      (cheaper
        ? 'The tuned models are smaller (the constraint keeps them below BC-ResNet-1), and under successive ' +
          'halving all but the last rung trained only a few epochs.'
        : 'The best tuned model is not cheaper than the hand recipe on every cost.');
  const early = handBestWithin(hand, best.epochs ?? 0);
  if (early !== null) {
    verdict +=
      ` At the same number of epochs, the hand run had reached ${pct(early)} (best of its first ` +
      `${best.epochs} epochs; its learning-rate schedule spans ${hand.recipe.epochs} epochs, so this ` +
      'comparison favours the search, whose schedules end at each rung).';
  }
}
// How informative the first rung was: its accuracies from the journal (records keep only a
// trial's last rung).
const firstRung = readFileSync(journal, 'utf8')
  .split('\n')
  .flatMap((line) => {
    try {
      const e = JSON.parse(line) as { type?: string; rung?: number; status?: string; accuracy?: number };
      return e.type === 'evaluation' && e.rung === 0 && e.status === 'ok' && typeof e.accuracy === 'number'
        ? [e.accuracy]
        : [];
    } catch {
      return [];
    }
  })
  .sort((a, b) => a - b);
let firstRungNote = '';
if (firstRung.length > 0) {
  const median = firstRung[Math.floor(firstRung.length / 2)] as number;
  const handEarly = hand === null ? null : handBestWithin(hand, budget.minEpochs);
  firstRungNote =
    `After the first rung (${budget.minEpochs} epochs) the ${firstRung.length} trained configurations scored ` +
    `${pct(firstRung[0] as number)}–${pct(firstRung[firstRung.length - 1] as number)} (median ${pct(median)}; ` +
    `chance is ${pct(1 / data.labels.length)})` +
    (handEarly === null
      ? ''
      : `, and the hand recipe's own run was at ${pct(handEarly)} after as many epochs`) +
    ': on 3,605 clips a BC-ResNet has barely left chance by then, so the ranking that decides promotion is ' +
    'mostly noise, and successive halving can only be as good as that ranking. A first rung of about 9 ' +
    'epochs would rank configurations much better, at about three times this budget.';
}
const md = `# Tuning: searching small BC-ResNets on gsc-dev

Generated by \`scripts/tune-gsc.ts\` (kws-kit \`tune()\`, successive halving).

- Data: ${dataDir}, ${train.labels.length} training and ${validation.labels.length} validation clips, ${data.labels.length} classes.
- Budget: ${budget.trials} configurations trained ${budget.minEpochs} epochs, the best 1/${budget.eta} promoted up to ${budget.maxEpochs} epochs (rungs ${result.plan.rungs.map((r) => `${r.trials}×${r.epochs}`).join(', ')}; ${result.plan.totalEpochs} epochs in total).
- Constraint: at most ${maxParams} parameters, checked with \`profile()\` on the built model before training.
- Fixed: ${Object.entries(SMALL_BC_RESNET_BASE)
  .map(([k, v]) => `${k} = ${String(v)}`)
  .join(', ')}.
- Searched: ${showSpace(SMALL_BC_RESNET_SPACE)}.
- Seed ${seed}; backend ${tf.getBackend()}; the trials took ${trialMinutes.toFixed(1)} minutes of training and evaluation in all (${minutes.toFixed(1)} minutes in the session that wrote this page, ${result.fromJournal} evaluations taken from the journal). The machine's 2 cores were shared with other runs, so these times are longer than on an idle machine.
- Outcome: ${trained} configurations trained, ${pruned} pruned by the constraint, ${invalid} invalid.

## Result

${verdict}

${firstRungNote}

![Validation accuracy against MACs, Pareto front highlighted](img/tuning-pareto.svg)

## All trials

Accuracy is the best validation accuracy over the epochs a trial trained (trials stopped at an
early rung trained fewer epochs). Front: on the accuracy-vs-cost Pareto front for P = params,
M = MACs, B = bytes.

${tuneMarkdown(result.trials)}
The best configuration is in \`bench/results/tuned-recipe.json\`, a recipe file (option names of
\`kws-kit train\`, e.g. \`kws-kit train --recipe bench/results/tuned-recipe.json\`), the full table in
\`bench/results/tuning.json\`.
`;
await mkdir(dirname(paths.markdown), { recursive: true });
await writeFile(paths.markdown, md);
console.log(
  JSON.stringify({
    best:
      best === null
        ? null
        : {
            id: best.id,
            accuracy: best.accuracy,
            params: best.params,
            macs: best.macs,
            epochs: best.epochs,
            config: best.config,
          },
    trained,
    pruned,
    invalid,
    minutes: Math.round(minutes * 10) / 10,
    trialMinutes: Math.round(trialMinutes * 10) / 10,
    outputs: paths,
  }),
);
