/**
 * Distils a keyword-spotting teacher into a smaller student on a Speech Commands folder with
 * kws-kit's `distill` (the training loop underneath) and prints the results as JSON. Not part of
 * the test suite.
 *
 *   npx tsx scripts/distill-gsc.ts [dataDir] [--backend wasm|cpu] [--model bc-resnet|crnn]
 *     [--teacher DIR] [--teacher-width 1] [--teacher-hidden 64] [--teacher-epochs 3]
 *     [--student-width 0.5] [--student-hidden 16] [--loss kd|mixed|attention+kd|mse]
 *     [--temperature 4] [--alpha 0.5] [--attention-weight 1] [--epochs 5] [--batch-size 100]
 *     [--micro-batch 50] [--optimizer sgd|adam|adamw] [--lr 0.1] [--limit N] [--val-limit N]
 *     [--augment] [--checkpoint-dir DIR] [--resume] [--save-student DIR] [--out results.json]
 *     [--seed 0] [--logger auto|json|silent]
 *
 * dataDir defaults to /tmp/gsc-dev-wav-datahelper when it exists. The teacher is loaded from
 * `--teacher` (a folder written by `saveModel`); without it a teacher of the same family is
 * first trained for `--teacher-epochs` epochs (a quick, weak teacher: for a real run train one
 * with scripts/train-gsc.ts and save it). Without `--augment` the teacher's logits are computed
 * once per clip and cached.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadSpeechCommands, type Split } from '../src/data/index.js';
import { type DistillLossName, distill } from '../src/distill/index.js';
import { bcResNet, crnn, loadModel, profile, saveModel } from '../src/models/index.js';
import { evaluate, type OptimizerName, train } from '../src/train/index.js';
import { dataFolder, parseArgs, selectBackend, subset } from './script-args.js';

const { positional, flags } = parseArgs(process.argv.slice(2), ['augment', 'resume']);
const num = (key: string, fallback: number): number => (flags.has(key) ? Number(flags.get(key)) : fallback);
const dataDir = dataFolder(positional, 'distill-gsc.ts');
const backend = flags.get('backend') ?? 'wasm';
const family = flags.get('model') ?? 'bc-resnet';
const loss = (flags.get('loss') ?? (family === 'crnn' ? 'attention+kd' : 'mixed')) as DistillLossName;
const optimizer = (flags.get('optimizer') ?? (family === 'crnn' ? 'adam' : 'sgd')) as OptimizerName;
const epochs = num('epochs', 5);
const batchSize = num('batch-size', 100);
const seed = num('seed', 0);
const logger = (flags.get('logger') ?? 'auto') as 'auto' | 'json' | 'silent';
const useAugment = flags.has('augment');

await selectBackend(backend);

const data = await loadSpeechCommands(dataDir, { splits: ['train', 'validation'], keepAudio: useAugment });
const trainSplit = subset(data.splits.train as Split, num('limit', Number.POSITIVE_INFINITY), seed);
const validation = subset(
  data.splits.validation as Split,
  num('val-limit', Number.POSITIVE_INFINITY),
  seed + 1,
);
const inputShape: [number, number] = [trainSplit.frames, trainSplit.bins];
const numClasses = data.labels.length;

function build(width: number, hidden: number, modelSeed: number) {
  return family === 'crnn'
    ? crnn({ numClasses, inputShape, hiddenSize: hidden, seed: modelSeed })
    : bcResNet({ width, numClasses, inputShape, seed: modelSeed });
}

const augment = useAugment
  ? { timeShiftMs: 100, noise: { probability: 0.8, maxGain: 0.1, clips: data.backgroundNoise } }
  : undefined;
const common = {
  batchSize,
  ...(flags.has('micro-batch') ? { microBatchSize: num('micro-batch', batchSize) } : {}),
  optimizer,
  ...(flags.has('lr') ? { learningRate: num('lr', 0.1) } : {}),
  seed,
  logger,
};

let teacher: tfl.LayersModel;
let teacherTrainSeconds = 0;
if (flags.has('teacher')) {
  teacher = await loadModel(flags.get('teacher') as string);
} else {
  teacher = build(num('teacher-width', 1), num('teacher-hidden', 64), seed + 100);
  const teacherEpochs = num('teacher-epochs', 3);
  const r = await train(teacher, {
    ...common,
    train: trainSplit,
    validation,
    epochs: teacherEpochs,
    schedule: { warmupEpochs: Math.min(1, teacherEpochs) },
    ...(augment === undefined ? {} : { augment }),
  });
  teacherTrainSeconds = r.seconds;
}
const student = build(num('student-width', 0.5), num('student-hidden', 16), seed);
const teacherAccuracy = evaluate(teacher, validation, { batchSize }).accuracy;
const studentInitial = evaluate(student, validation, { batchSize }).accuracy;

const result = await distill({
  ...common,
  teacher,
  student,
  train: trainSplit,
  validation,
  loss,
  temperature: num('temperature', 4),
  alpha: num('alpha', 0.5),
  ...(flags.has('attention-weight') ? { attentionWeight: num('attention-weight', 1) } : {}),
  epochs,
  schedule: { warmupEpochs: Math.min(num('warmup', 1), epochs) },
  ...(augment === undefined ? {} : { augment }),
  ...(flags.has('checkpoint-dir') ? { checkpointDir: flags.get('checkpoint-dir') as string } : {}),
  resume: flags.has('resume'),
});
if (flags.has('save-student')) await saveModel(student, flags.get('save-student') as string);

const summary = {
  backend: tf.getBackend(),
  family,
  loss,
  data: {
    dir: dataDir,
    labels: data.labels,
    train: trainSplit.labels.length,
    validation: validation.labels.length,
  },
  teacher: {
    params: profile(teacher).total.params,
    validationAccuracy: teacherAccuracy,
    trainSeconds: Math.round(teacherTrainSeconds),
  },
  student: {
    params: profile(student).total.params,
    initialValidationAccuracy: studentInitial,
    bestValidationAccuracy: result.bestValidationAccuracy,
    finalValidationAccuracy: evaluate(student, validation, { batchSize }).accuracy,
  },
  distillSeconds: Math.round(result.seconds),
  history: result.history,
};
const text = JSON.stringify(summary, null, 2);
console.log(text);
if (flags.has('out')) writeFileSync(flags.get('out') as string, text);
teacher.dispose();
student.dispose();
