/**
 * Trains a keyword-spotting model on a Speech Commands folder with kws-kit's training loop and
 * prints (and optionally writes) the results as JSON. Not part of the test suite.
 *
 *   npx tsx scripts/train-gsc.ts [dataDir] [--backend wasm|cpu] [--model bc-resnet|crnn]
 *     [--width 1] [--causal] [--dropout R] [--epochs 5] [--batch-size 100] [--micro-batch 50] [--optimizer sgd|adam|adamw] [--lr 0.1]
 *     [--weight-decay 1e-3] [--warmup 5] [--limit N] [--val-limit N] [--no-augment] [--spec-augment] [--init glorot|pytorch]
 *     [--profile K] [--checkpoint-dir DIR] [--resume] [--cache-dir DIR] [--out results.json]
 *     [--seed 0] [--workers 1] [--logger auto|json|silent]
 *
 * dataDir defaults to /tmp/gsc-dev-wav-datahelper when it exists. The defaults are the gsc-dev
 * BC-ResNet recipe (SGD, momentum 0.9, lr 0.1 with 5 warm-up epochs then cosine, weight decay
 * 1e-3, batch 100, ±100 ms shift, noise p = 0.8 at gain U(0, 0.1)) except for the epoch count.
 *
 * `--spec-augment` adds SpecAugment (two frequency masks up to 8 bins and two time masks up to
 * 10 frames, filled with the clip's mean since these log-mel features are not normalised).
 *
 * `--profile K` first times K training steps split into data preparation, forward, backward and
 * optimizer update, and reports the kernels that take the most time.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { buildModel, speechCommandsAugment } from '../src/cli/train.js';
import { loadSpeechCommands, type Split } from '../src/data/index.js';
import { type CrnnInit, profile } from '../src/models/index.js';
import { createRng } from '../src/random.js';
import { createBatchAugmenter } from '../src/train/augment-batch.js';
import { evaluate } from '../src/train/evaluate.js';
import { softmaxCrossEntropy } from '../src/train/loss.js';
import { createOptimizer, type OptimizerName } from '../src/train/optimizer.js';
import { train } from '../src/train/train.js';
import { dataFolder, parseArgs, selectBackend, subset } from './script-args.js';

const { positional, flags } = parseArgs(process.argv.slice(2), [
  'no-augment',
  'resume',
  'causal',
  'spec-augment',
]);
const num = (key: string, fallback: number): number => (flags.has(key) ? Number(flags.get(key)) : fallback);
const dataDir = dataFolder(positional, 'train-gsc.ts');
const backend = flags.get('backend') ?? 'wasm';
const modelName = flags.get('model') ?? 'bc-resnet';
const optimizer = (flags.get('optimizer') ?? (modelName === 'crnn' ? 'adam' : 'sgd')) as OptimizerName;
const epochs = num('epochs', 5);
const batchSize = num('batch-size', 100);
const seed = num('seed', 0);

await selectBackend(backend);

const loadStart = performance.now();
const data = await loadSpeechCommands(dataDir, {
  splits: ['train', 'validation'],
  keepAudio: !flags.has('no-augment'),
  ...(flags.has('cache-dir') ? { cacheDir: flags.get('cache-dir') as string } : {}),
});
const loadSeconds = (performance.now() - loadStart) / 1000;
const trainSplit = subset(data.splits.train as Split, num('limit', Number.POSITIVE_INFINITY), seed);
const validation = subset(
  data.splits.validation as Split,
  num('val-limit', Number.POSITIVE_INFINITY),
  seed + 1,
);

const inputShape: [number, number] = [trainSplit.frames, trainSplit.bins];
const family = modelName === 'crnn' ? 'crnn' : 'bc-resnet';
const modelSpec = {
  family,
  numClasses: data.labels.length,
  inputShape,
  seed,
  ...(flags.has('dropout') ? { dropout: num('dropout', 0) } : {}),
  ...(flags.has('init') ? { init: flags.get('init') as CrnnInit } : {}),
  ...(family === 'bc-resnet' ? { width: num('width', 1), causal: flags.has('causal') } : {}),
} as const;
const model = buildModel(modelSpec);

const params = (({ params: all, trainableParams, macs }) => ({ all, trainable: trainableParams, macs }))(
  profile(model).total,
);
const augment = flags.has('no-augment')
  ? undefined
  : {
      ...speechCommandsAugment(data.backgroundNoise),
      ...(flags.has('spec-augment') ? { specAugment: { maskValue: 'mean' as const } } : {}),
    };

/** Times `steps` training steps, phase by phase, on a model copy of the same architecture. */
async function profileSteps(steps: number): Promise<Record<string, unknown>> {
  const probe = buildModel(modelSpec);
  const vars = probe.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = createOptimizer({ optimizer, learningRate: 0.01, weightDecay: 1e-3 });
  const aug = augment === undefined ? null : createBatchAugmenter(trainSplit, augment);
  const rng = createRng(1);
  const times = { data: 0, forward: 0, forwardBackward: 0, optimizer: 0 };
  const b = Math.min(batchSize, trainSplit.labels.length);
  const size = trainSplit.frames * trainSplit.bins;
  const timed = (fn: () => void): number => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };
  for (let s = 0; s <= steps; s++) {
    const indices = Int32Array.from({ length: b }, () => rng.int(trainSplit.labels.length));
    let xs: Float32Array = new Float32Array(0);
    const tData = timed(() => {
      xs =
        aug === null
          ? Float32Array.from({ length: b * size }, (_, k) => {
              const i = indices[Math.floor(k / size)] as number;
              return trainSplit.features[i * size + (k % size)] as number;
            })
          : aug.apply(indices, rng);
    });
    const y = Int32Array.from(indices, (i) => trainSplit.labels[i] as number);
    const x = tf.tensor3d(xs, [b, trainSplit.frames, trainSplit.bins]);
    const tForward = timed(() => {
      tf.tidy(() => softmaxCrossEntropy(probe.apply(x, { training: true }) as tf.Tensor, y).dataSync());
    });
    let grads: tf.NamedTensorMap = {};
    const tFb = timed(() => {
      const r = tf.variableGrads(
        () => softmaxCrossEntropy(probe.apply(x, { training: true }) as tf.Tensor, y),
        vars,
      );
      for (const g of Object.values(r.grads)) g.dataSync();
      r.value.dispose();
      grads = r.grads;
    });
    const tOpt = timed(() => {
      opt.applyGradients(vars, grads);
      (vars[vars.length - 1] as tf.Variable).dataSync();
    });
    tf.dispose([x, ...Object.values(grads)]);
    if (s === 0) continue; // warm-up step (kernel compilation, slot creation)
    times.data += tData;
    times.forward += tForward;
    times.forwardBackward += tFb;
    times.optimizer += tOpt;
  }
  // Kernel breakdown of one forward + backward.
  const indices = Int32Array.from({ length: b }, (_, i) => i);
  const x = tf.tensor3d(trainSplit.features.slice(0, b * size), [b, trainSplit.frames, trainSplit.bins]);
  const y = Int32Array.from(indices, (i) => trainSplit.labels[i] as number);
  const info = await tf.profile(() => {
    const r = tf.variableGrads(
      () => softmaxCrossEntropy(probe.apply(x, { training: true }) as tf.Tensor, y),
      vars,
    );
    r.value.dispose();
    tf.dispose(Object.values(r.grads));
  });
  x.dispose();
  const byKernel: Record<string, { ms: number; calls: number }> = {};
  for (const k of info.kernels) {
    const e = byKernel[k.name] ?? { ms: 0, calls: 0 };
    e.ms += k.kernelTimeMs as number;
    e.calls += 1;
    byKernel[k.name] = e;
  }
  const topKernels = Object.entries(byKernel)
    .sort((p, q) => q[1].ms - p[1].ms)
    .slice(0, 10)
    .map(([name, v]) => ({ name, ms: Math.round(v.ms), calls: v.calls }));
  opt.dispose();
  probe.dispose();
  const per = (ms: number): number => Math.round(ms / steps);
  return {
    batchSize: b,
    steps,
    msPerStep: {
      data: per(times.data),
      forward: per(times.forward),
      backward: per(times.forwardBackward - times.forward),
      optimizer: per(times.optimizer),
      total: per(times.data + times.forwardBackward + times.optimizer),
    },
    kernelsPerForwardBackward: info.kernels.length,
    peakMB: Math.round(info.peakBytes / 1e6),
    topKernels,
  };
}

const profiled = flags.has('profile') ? await profileSteps(num('profile', 3)) : undefined;
if (profiled !== undefined) console.error(JSON.stringify({ profile: profiled }));

const result = await train(model, {
  train: trainSplit,
  validation,
  epochs,
  batchSize,
  ...(flags.has('micro-batch') ? { microBatchSize: num('micro-batch', batchSize) } : {}),
  optimizer,
  ...(flags.has('lr') ? { learningRate: num('lr', 0.1) } : {}),
  ...(flags.has('weight-decay') ? { weightDecay: num('weight-decay', 0) } : {}),
  schedule: { warmupEpochs: Math.min(num('warmup', 5), epochs) },
  ...(augment === undefined ? {} : { augment }),
  seed,
  workers: num('workers', 1),
  ...(flags.has('checkpoint-dir') ? { checkpointDir: flags.get('checkpoint-dir') as string } : {}),
  resume: flags.has('resume'),
  logger: (flags.get('logger') ?? 'auto') as 'auto' | 'json' | 'silent',
});
const final = evaluate(model, validation, { batchSize });
const trainingEpochs = result.history;
const summary = {
  backend: tf.getBackend(),
  model: modelName,
  parameters: params,
  data: {
    dir: dataDir,
    labels: data.labels,
    train: trainSplit.labels.length,
    validation: validation.labels.length,
    loadSeconds: Math.round(loadSeconds * 10) / 10,
  },
  recipe: {
    epochs,
    batchSize,
    microBatchSize: num('micro-batch', batchSize),
    optimizer,
    seed,
    workers: num('workers', 1),
    causal: flags.has('causal'),
    augment: augment !== undefined,
    specAugment: flags.has('spec-augment'),
    ...(flags.has('init') ? { init: flags.get('init') } : {}),
    ...(flags.has('dropout') ? { dropout: num('dropout', 0) } : {}),
    ...(flags.has('lr') ? { learningRate: num('lr', 0) } : {}),
    ...(flags.has('weight-decay') ? { weightDecay: num('weight-decay', 0) } : {}),
  },
  bestEpoch: result.bestEpoch,
  bestValidationAccuracy: result.bestValidationAccuracy,
  finalValidationAccuracy: final.accuracy,
  meanExamplesPerSecond:
    trainingEpochs.reduce((a, h) => a + h.examplesPerSecond, 0) / Math.max(1, trainingEpochs.length),
  // Every session of a resumed run counts (result.seconds is this call's wall time only).
  trainingSeconds: Math.round(trainingEpochs.at(-1)?.elapsedSeconds ?? result.seconds),
  history: trainingEpochs,
  perClass: final.perClass,
  ...(profiled === undefined ? {} : { profile: profiled }),
};
const text = JSON.stringify(summary, null, 2);
console.log(text);
if (flags.has('out')) writeFileSync(flags.get('out') as string, text);
model.dispose();
