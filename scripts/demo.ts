/**
 * `npm run demo`: the whole kws-kit story on a fresh clone with no data anywhere (see
 * `src/demo/run-demo.ts`): generated data (espeak-ng when installed, else a built-in generator),
 * the shipped pretrained teacher fine-tuned, a student distilled and quantized, a glued track
 * streamed, and `demo-out/report.md` with SVG plots.
 *
 *   npm run demo -- [--out demo-out] [--data <speech-commands folder> [--limit 60]]
 *     [--synth auto|espeak|builtin] [--no-pretrained] [--quick] [--seed 0] [--json] [--backend wasm|cpu]
 *
 * Progress goes to stderr; `--json` prints the report object on stdout.
 */
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { runDemo } from '../src/demo/run-demo.js';
import type { SynthSource } from '../src/demo/synth-data.js';
import { parseArgs, selectBackend } from './script-args.js';

const { flags } = parseArgs(process.argv.slice(2), ['no-pretrained', 'quick', 'json']);
const num = (key: string): number | undefined => (flags.has(key) ? Number(flags.get(key)) : undefined);
const limit = num('limit');
const seed = num('seed');
const data = flags.get('data');
const out = flags.get('out');

await selectBackend(flags.get('backend') ?? 'wasm');
const report = await runDemo({
  ...(out === undefined ? {} : { out }),
  ...(data === undefined ? {} : { data }),
  ...(limit === undefined ? {} : { limit }),
  ...(seed === undefined ? {} : { seed }),
  synth: (flags.get('synth') ?? 'auto') as SynthSource,
  pretrained: !flags.has('no-pretrained'),
  quick: flags.has('quick'),
  log: (line) => process.stderr.write(`${line}\n`),
});
if (flags.has('json')) process.stdout.write(`${JSON.stringify(report)}\n`);
else process.stderr.write(`wrote ${report.out}/${report.files.report}\n`);
