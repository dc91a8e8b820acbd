/**
 * Experiment, not part of the library or the tests: does the CRNN's remaining accuracy gap to the
 * PyTorch reference on gsc-dev come from the GRU formulation? Trains the default CRNN shape with
 * a PyTorch-formulation GRU written here with tfjs ops (reset gate applied *after* the recurrent
 * product, separate input and recurrent biases, every GRU tensor drawn from U(±1/√units) as
 * PyTorch does) instead of tfjs-layers' GRU, with the default CRNN recipe, and prints the result
 * as `train-gsc.ts` does.
 *
 *   npx tsx scripts/crnn-gru-experiment.ts [dataDir] [--seed 0] [--epochs 60] [--out results.json]
 *
 * The layer below is deliberately minimal (training and evaluation only: no serialisation, no
 * compiled runtime, no streaming state).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { speechCommandsAugment } from '../src/cli/train.js';
import { loadSpeechCommands, type Split } from '../src/data/index.js';
import { AttentionPooling, profile, SeededDropout } from '../src/models/index.js';
import { createRng } from '../src/random.js';
import { evaluate } from '../src/train/evaluate.js';
import { train } from '../src/train/train.js';
import { dataFolder, parseArgs, selectBackend } from './script-args.js';

/** h' = (1 − z)·n + z·h with z, r = σ(x W + b_i + h U + b_h), n = tanh(x W_n + b_in + r·(h U_n + b_hn)). */
class ResetAfterGru extends tfl.layers.Layer {
  static className = 'ResetAfterGru';
  private readonly units: number;
  private readonly seed: number;
  private kernel!: tfl.LayerVariable;
  private recurrent!: tfl.LayerVariable;
  private inputBias!: tfl.LayerVariable;
  private recurrentBias!: tfl.LayerVariable;

  constructor(args: { units: number; seed: number; name: string }) {
    super({ name: args.name });
    this.units = args.units;
    this.seed = args.seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const inSize = (inputShape as tfl.Shape).at(-1) as number;
    const bound = 1 / Math.sqrt(this.units);
    const init = (k: number) =>
      tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: this.seed + k });
    const u3 = 3 * this.units;
    this.kernel = this.addWeight('kernel', [inSize, u3], 'float32', init(0));
    this.recurrent = this.addWeight('recurrent_kernel', [this.units, u3], 'float32', init(1));
    this.inputBias = this.addWeight('input_bias', [u3], 'float32', init(2));
    this.recurrentBias = this.addWeight('recurrent_bias', [u3], 'float32', init(3));
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = inputShape as tfl.Shape;
    return [s[0] as number | null, s[1] as number | null, this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, steps, inSize] = x.shape;
      const u = this.units;
      const xs = tf.reshape(
        tf.add(tf.matMul(tf.reshape(x, [batch * steps, inSize]), this.kernel.read()), this.inputBias.read()),
        [batch, steps, 3 * u],
      );
      let h: tf.Tensor2D = tf.zeros([batch, u]);
      const outputs: tf.Tensor2D[] = [];
      for (let t = 0; t < steps; t++) {
        const xt = tf.reshape(tf.slice(xs, [0, t, 0], [batch, 1, 3 * u]), [batch, 3 * u]);
        const hh = tf.add(tf.matMul(h, this.recurrent.read() as tf.Tensor2D), this.recurrentBias.read());
        const [xz, xr, xn] = tf.split(xt, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const [hz, hr, hn] = tf.split(hh, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const z = tf.sigmoid(tf.add(xz, hz));
        const r = tf.sigmoid(tf.add(xr, hr));
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
        h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h)) as tf.Tensor2D;
        outputs.push(h);
      }
      return tf.stack(outputs, 1);
    });
  }
}

const { positional, flags } = parseArgs(process.argv.slice(2), []);
const seed = Number(flags.get('seed') ?? 0);
const epochs = Number(flags.get('epochs') ?? 60);
await selectBackend(flags.get('backend') ?? 'wasm');
const data = await loadSpeechCommands(dataFolder(positional, 'crnn-gru-experiment.ts'), {
  splits: ['train', 'validation'],
  keepAudio: true,
});
const trainSplit = data.splits.train as Split;
const validation = data.splits.validation as Split;

// The default crnn() shape: conv 8 × (20 frames × 5 mels) stride (8, 2) → 11 steps × 144, two
// GRUs of 64 with dropout 0.1 between them, additive attention, dense to the classes.
const rng = createRng(seed);
const next = (): number => rng.int(2 ** 31 - 2);
const input = tfl.input({ shape: [trainSplit.frames, trainSplit.bins] });
let x = tfl.layers.reshape({ targetShape: [trainSplit.frames, trainSplit.bins, 1] }).apply(input);
x = tfl.layers
  .conv2d({
    filters: 8,
    kernelSize: [20, 5],
    strides: [8, 2],
    padding: 'valid',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: next() }),
  })
  .apply(x);
x = tfl.layers.reshape({ targetShape: [11, 144] }).apply(x);
x = new ResetAfterGru({ units: 64, seed: next(), name: 'gru_1' }).apply(x);
x = new SeededDropout({ rate: 0.1, seed: next(), name: 'dropout_1' }).apply(x);
x = new ResetAfterGru({ units: 64, seed: next(), name: 'gru_2' }).apply(x);
const [pooled] = new AttentionPooling({ units: 64, returnAttention: true, seed: next() }).apply(
  x,
) as tfl.SymbolicTensor[];
const logits = tfl.layers
  .dense({ units: data.labels.length, kernelInitializer: tfl.initializers.glorotUniform({ seed: next() }) })
  .apply(pooled as tfl.SymbolicTensor) as tfl.SymbolicTensor;
const model = tfl.model({ inputs: input, outputs: logits });
const params = model.countParams();

const result = await train(model, {
  train: trainSplit,
  validation,
  epochs,
  batchSize: 100,
  optimizer: 'adam',
  schedule: { warmupEpochs: Math.min(5, epochs) },
  augment: speechCommandsAugment(data.backgroundNoise),
  seed,
  logger: 'json',
});
const summary = {
  backend: tf.getBackend(),
  model: 'crnn with a reset-after (PyTorch-formulation) GRU, experiment',
  parameters: { all: params, macs: profile(model).total.macs },
  recipe: { epochs, batchSize: 100, optimizer: 'adam', seed, augment: true },
  bestEpoch: result.bestEpoch,
  bestValidationAccuracy: result.bestValidationAccuracy,
  finalValidationAccuracy: evaluate(model, validation, { batchSize: 100 }).accuracy,
  trainingSeconds: Math.round(result.seconds),
  history: result.history,
};
console.log(JSON.stringify(summary, null, 2));
if (flags.has('out')) writeFileSync(flags.get('out') as string, JSON.stringify(summary, null, 2));
model.dispose();
