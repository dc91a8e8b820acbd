/**
 * Which engine computes the training gradients, and the compiled engine behind the loop's
 * {@link BatchGradients} signature.
 *
 * - `'tfjs'`: `tf.variableGrads` over `model.apply(x, { training: true })` (any model, hooks).
 * - `'compiled'`: the plain-TypeScript training program of {@link compileTrainingGraph}
 *   (BC-ResNet-style conv models), several times faster on every backend. Gradients agree with
 *   tfjs' to about 1e-5 relative; the model is left exactly as a tfjs training step leaves it in
 *   kind (moving statistics updated per micro-batch, `ChannelDropout` generators advanced by the
 *   same draws), so checkpoints, resume and `restoreBest` work across engines.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { addInto, splitValues } from '../parallel/shard.js';
import type { BatchGradients, GradientOptions } from '../parallel/shard-gradients.js';
import { COMPILED_LAYER_CLASSES, compileTrainingGraph, type TrainingGraph } from './graph.js';

/** The engine a caller asks for: `'auto'` picks `'compiled'` when it can run the model. */
export type TrainingEngine = 'auto' | 'compiled' | 'tfjs';

/** The engine names, for validation and help texts. */
export const TRAINING_ENGINES: readonly TrainingEngine[] = ['auto', 'compiled', 'tfjs'];

/** What {@link chooseEngine} picked; `graph` is the compiled program when it picked `'compiled'`. */
export type ChosenEngine = { kind: 'compiled'; graph: TrainingGraph } | { kind: 'tfjs'; graph: null };

/** What {@link chooseEngine} needs to know besides the model. */
export interface EngineContext {
  /** Frames per example (for a model with a variable time axis). */
  frames: number;
  /**
   * Names of the per-batch hooks in use (`prepareBatch`, `forward`, `lossFn`, ...): they need
   * tfjs tensors, so only the tfjs engine runs them.
   */
  batchHooks: readonly string[];
}

/**
 * Resolves `requested` for `model`: `'tfjs'` as is; `'compiled'` when every layer compiles and
 * no per-batch hook is used, else a `KwsError`; `'auto'` as `'compiled'` when that works, else
 * `'tfjs'` (e.g. the CRNN's GRU, tfjs-layers `Conv2D`, hooks).
 *
 * @throws {@link KwsError} with `requested` `'compiled'`: `INVALID_ARGUMENT` for per-batch hooks,
 *   `MODEL_INVALID` naming the first layer the compiled trainer cannot run and listing what it
 *   supports.
 */
export function chooseEngine(
  model: tfl.LayersModel,
  requested: TrainingEngine,
  context: EngineContext,
): ChosenEngine {
  if (requested === 'tfjs') return { kind: 'tfjs', graph: null };
  if (context.batchHooks.length > 0) {
    if (requested === 'auto') return { kind: 'tfjs', graph: null };
    throw new KwsError(
      'INVALID_ARGUMENT',
      `engine 'compiled' cannot run hooks.${context.batchHooks.join(', hooks.')} (they need tfjs tensors); ` +
        "use engine 'tfjs' or 'auto'",
    );
  }
  try {
    return { kind: 'compiled', graph: compileTrainingGraph(model, { frames: context.frames }) };
  } catch (e) {
    // 'auto' must never make a model untrainable that tfjs trains: any failure falls back.
    if (requested === 'auto') return { kind: 'tfjs', graph: null };
    throw new KwsError(
      e instanceof KwsError ? e.code : 'MODEL_INVALID',
      `engine 'compiled' cannot train this model: ${e instanceof Error ? e.message : String(e)}. ` +
        `The compiled trainer runs ${COMPILED_LAYER_CLASSES.join(', ')}; use engine 'tfjs' or 'auto' ` +
        'for other models',
    );
  }
}

/** Examples whose largest logit (the first, on ties, as `tf.argMax`) is at their label. */
export function countCorrect(logits: Float32Array, labels: Int32Array, classes: number): number {
  let correct = 0;
  for (let n = 0; n < labels.length; n++) {
    const o = n * classes;
    let best = 0;
    for (let j = 1; j < classes; j++) if ((logits[o + j] as number) > (logits[o + best] as number)) best = j;
    if (best === labels[n]) correct++;
  }
  return correct;
}

/**
 * The compiled engine: {@link BatchGradients} over `graph`. Each call re-reads the weights and
 * moving statistics from the model's variables (the optimizer, a resume or `restoreBest` may
 * have changed them), runs the micro-batches in order (each with its own batch statistics and
 * dropout masks; their gradients summed in float32, as `tf.add` sums them), then writes the
 * moving statistics back to the model's variables.
 */
export function compiledGradients(graph: TrainingGraph, o: GradientOptions): BatchGradients {
  const shapes = graph.trainableVariables.map((v) => v.shape as number[]);
  const total = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  const example = o.frames * o.bins;
  const classes = graph.numClasses;
  return (features, labels, denominator) => {
    graph.readWeights();
    const grads = new Float32Array(total);
    const parts = splitValues(grads, shapes);
    let loss = 0;
    let correct = 0;
    let movingStats: Float32Array[] = [];
    for (let start = 0; start < labels.length; start += o.microBatchSize) {
      const end = Math.min(labels.length, start + o.microBatchSize);
      const y = labels.subarray(start, end);
      const r = graph.lossAndGradients(features.subarray(start * example, end * example), y, end - start, {
        classWeights: o.classWeights,
        denominator,
      });
      loss += r.loss;
      correct += countCorrect(r.logits, y, classes);
      r.gradients.forEach((g, k) => {
        addInto(parts[k] as Float32Array, g);
      });
      movingStats = r.movingStats;
    }
    if (movingStats.length > 0) {
      tf.tidy(() => {
        graph.movingVariables.forEach((v, k) => {
          v.write(tf.tensor(movingStats[k] as Float32Array, v.shape as number[]));
        });
      });
    }
    return { loss, correct, grads };
  };
}

/**
 * The flat gradient `values` (concatenated in `variables` order) as the optimizer takes it: one
 * new tensor per variable, keyed by the variable's name. The caller disposes them.
 */
export function gradientTensors(
  variables: readonly tfl.LayerVariable[],
  values: Float32Array,
): tf.NamedTensorMap {
  const parts = splitValues(
    values,
    variables.map((v) => v.shape as number[]),
  );
  const grads: tf.NamedTensorMap = {};
  variables.forEach((w, i) => {
    const v = w.read() as tf.Variable;
    grads[v.name] = tf.tensor((parts[i] as Float32Array).slice(), v.shape);
  });
  return grads;
}
