/**
 * Knowledge distillation through kws-kit's training loop: a frozen teacher's outputs become the
 * targets of a student trained with {@link train} (same shuffling, augmentation, schedule,
 * optimizers, micro-batching, validation, checkpoints and resume), via its {@link TrainHooks}.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Split } from '../data/index.js';
import { KwsError } from '../errors.js';
import { withAttentionOutput } from '../models/index.js';
import {
  type TrainBatchContext,
  type TrainHooks,
  type TrainLossContext,
  type TrainOptions,
  type TrainResult,
  train,
} from '../train/index.js';
import { checkBoolean, checkChoice, checkNumber, checkOptions } from '../validate.js';
import { type AttentionResampling, attentionKdLoss } from './attention-loss.js';
import { DEFAULT_KD_ALPHA, DEFAULT_KD_TEMPERATURE, kdLoss, logitMse, mixedKdLoss } from './kd-loss.js';

/** The built-in distillation losses of {@link distill}. */
export type DistillLossName = 'kd' | 'mixed' | 'attention+kd' | 'mse';

/** The built-in loss names. */
export const DISTILL_LOSSES: readonly DistillLossName[] = ['kd', 'mixed', 'attention+kd', 'mse'];

/** What a custom distillation loss receives for each (micro-)batch, inside the gradient tape. */
export interface DistillLossContext {
  /** Student logits `[size, classes]` (training mode; gradients flow). */
  studentLogits: tf.Tensor;
  /** Teacher logits `[size, classes]` (inference mode; constants). */
  teacherLogits: tf.Tensor;
  /** Hard labels of the examples (`size` entries). */
  labels: Int32Array;
  /** Student attention `[size, Ts]`, when `attention` is on. */
  studentAttention?: tf.Tensor;
  /** Teacher attention `[size, Tt]`, when `attention` is on (constants). */
  teacherAttention?: tf.Tensor;
  /** The student's input tensor. */
  inputs: tf.Tensor;
  /** Which training examples these are. */
  indices: Int32Array;
  /** The `temperature` option. */
  temperature: number;
  /** The `alpha` option. */
  alpha: number;
  /** Per-class weights resolved from `classWeights`, if set. */
  classWeights: readonly number[] | undefined;
}

/**
 * A custom distillation loss: the **mean** loss over the batch's examples, as a float32 scalar
 * built from the tensors in the context (the training loop disposes it).
 */
export type DistillLossFn = (ctx: DistillLossContext) => tf.Scalar;

/** Options of {@link distill}: every {@link TrainOptions} option plus the ones below. */
export interface DistillOptions extends TrainOptions {
  /**
   * The trained teacher: a one-input classifier over the same features (`[batch, frames, bins]`
   * or `[batch, frames, bins, 1]`) and labels. Run in inference mode; never updated.
   */
  teacher: tfl.LayersModel;
  /** The student to train, a one-output classifier (a plain CRNN for attention losses). */
  student: tfl.LayersModel;
  /**
   * - `'kd'`: T²·KL(softmax(t/T) ‖ softmax(s/T)) only ({@link kdLoss}; `alpha` unused);
   * - `'mixed'` (default): α·CE(labels) + (1−α)·KD ({@link mixedKdLoss});
   * - `'attention+kd'`: the `'mixed'` loss plus `attentionWeight`·KL between the teacher's and
   *   the student's attention over time ({@link attentionKdLoss}; both models must be kws-kit
   *   CRNNs; their time lengths may differ);
   * - `'mse'`: mean squared difference of the logits ({@link logitMse});
   * - a {@link DistillLossFn}.
   */
  loss?: DistillLossName | DistillLossFn;
  /** Softmax temperature T > 0. Default 4. */
  temperature?: number;
  /** Weight α ∈ [0, 1] of the hard-label cross-entropy in `'mixed'` and `'attention+kd'`. Default 0.5. */
  alpha?: number;
  /** Weight (≥ 0) of the attention term of `'attention+kd'`. Default 1. */
  attentionWeight?: number;
  /** How the teacher's attention is resampled to the student's length. Default `'area'`. */
  attentionResample?: AttentionResampling;
  /**
   * Give a custom loss both models' attention (they must be CRNNs). Default: true for
   * `'attention+kd'`, false otherwise.
   */
  attention?: boolean;
  /**
   * Compute the teacher's outputs once per training clip before the first epoch and reuse them
   * every epoch (the teacher is deterministic in inference mode, so this equals recomputing them).
   * Not allowed with `augment`, whose clips change every epoch. Default: true without `augment`.
   */
  cacheTeacherLogits?: boolean;
  /**
   * More variables trained with the student, e.g. the `variables` of a hint projection used by a
   * custom loss. Their values are not checkpointed. Default none.
   */
  extraVariables?: readonly tf.Variable[];
}

const DISTILL_KEYS = [
  'teacher',
  'student',
  'loss',
  'temperature',
  'alpha',
  'attentionWeight',
  'attentionResample',
  'attention',
  'cacheTeacherLogits',
  'extraVariables',
] as const;

/** The teacher's outputs for one batch: logits and (with attention) its attention rows. */
interface TeacherOutputs {
  logits: tf.Tensor2D;
  attention: tf.Tensor2D | null;
}

function isLayersModel(model: unknown): model is tfl.LayersModel {
  const m = model as tfl.LayersModel;
  return (
    typeof model === 'object' &&
    model !== null &&
    Array.isArray(m.inputs) &&
    Array.isArray(m.outputs) &&
    typeof m.apply === 'function'
  );
}

function outputClasses(name: string, model: tfl.LayersModel): number {
  const shape = (model.outputs[0] as tfl.SymbolicTensor).shape;
  if (model.outputs.length !== 1 || shape.length !== 2 || typeof shape[1] !== 'number') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must have one output of logits [batch, classes]; it has ${model.outputs.length} output(s)` +
        (model.outputs.length === 1 ? ` shaped [${shape.map(String)}]` : '') +
        ' (pass the plain model; distill adds the attention view itself)',
    );
  }
  return shape[1];
}

/** Whether the teacher takes `[batch, frames, bins, 1]` (else `[batch, frames, bins]`). */
function teacherChannelAxis(teacher: tfl.LayersModel, frames: number, bins: number): boolean {
  if (teacher.inputs.length !== 1) {
    throw new KwsError('INVALID_ARGUMENT', `teacher must have one input; it has ${teacher.inputs.length}`);
  }
  const s = (teacher.inputs[0] as tfl.SymbolicTensor).shape;
  const okRank = s.length === 3 || (s.length === 4 && s[3] === 1);
  if (!okRank || (s[1] !== null && s[1] !== frames) || s[2] !== bins) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `teacher input is [${s.map(String)}]; the data needs [null, ${frames}, ${bins}] or [null, ${frames}, ${bins}, 1]`,
    );
  }
  return s.length === 4;
}

function attentionView(name: string, model: tfl.LayersModel, loss: string): tfl.LayersModel {
  try {
    return withAttentionOutput(model);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new KwsError(
      'INVALID_ARGUMENT',
      `loss ${loss} needs attention weights from the ${name}, a kws-kit CRNN (crnn()): ${why}`,
    );
  }
}

/** Runs the teacher (inference mode) on `count` clips of features; the caller disposes the result. */
function runTeacher(
  teacher: tfl.LayersModel,
  view: tfl.LayersModel | null,
  features: Float32Array,
  count: number,
  frames: number,
  bins: number,
  channelAxis: boolean,
): TeacherOutputs {
  const outputs = tf.tidy((): tf.Tensor2D[] => {
    const x = channelAxis
      ? tf.tensor4d(features, [count, frames, bins, 1])
      : tf.tensor3d(features, [count, frames, bins]);
    if (view === null) return [teacher.apply(x, { training: false }) as tf.Tensor2D];
    return view.apply(x, { training: false }) as tf.Tensor2D[];
  });
  return { logits: outputs[0] as tf.Tensor2D, attention: outputs[1] ?? null };
}

/** The teacher's outputs for every clip of `split`, as flat row-major arrays. */
interface TeacherCache {
  logits: Float32Array;
  classes: number;
  attention: Float32Array | null;
  steps: number;
}

function cacheTeacher(
  teacher: tfl.LayersModel,
  view: tfl.LayersModel | null,
  split: Split,
  chunk: number,
  channelAxis: boolean,
): TeacherCache {
  const n = split.labels.length;
  const size = split.frames * split.bins;
  let logits: Float32Array | null = null;
  let attention: Float32Array | null = null;
  let classes = 0;
  let steps = 0;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const out = runTeacher(
      teacher,
      view,
      split.features.subarray(start * size, end * size),
      end - start,
      split.frames,
      split.bins,
      channelAxis,
    );
    try {
      classes = out.logits.shape[1];
      logits ??= new Float32Array(n * classes);
      logits.set(out.logits.dataSync() as Float32Array, start * classes);
      if (out.attention !== null) {
        steps = out.attention.shape[1];
        attention ??= new Float32Array(n * steps);
        attention.set(out.attention.dataSync() as Float32Array, start * steps);
      }
    } finally {
      tf.dispose([out.logits, out.attention ?? []].flat());
    }
  }
  return { logits: logits as Float32Array, classes, attention, steps };
}

function gatherRows(source: Float32Array, width: number, indices: Int32Array): tf.Tensor2D {
  const rows = new Float32Array(indices.length * width);
  for (let i = 0; i < indices.length; i++) {
    const at = (indices[i] as number) * width;
    rows.set(source.subarray(at, at + width), i * width);
  }
  return tf.tensor2d(rows, [indices.length, width]);
}

/**
 * Distils `teacher` into `student`: trains the student with the training loop ({@link train},
 * every one of its options applies) on a loss that compares its outputs with the teacher's.
 *
 * The teacher runs in inference mode (`training: false`: dropout off, batch norms on their moving
 * statistics) outside the gradient tape, so it never receives gradients and its weights and
 * statistics never change; only the student's trainable weights (plus `extraVariables`) are
 * optimised. Without augmentation the teacher's outputs are computed once per clip and reused
 * every epoch (`cacheTeacherLogits`); with augmentation they are recomputed on each augmented batch.
 * Validation, `bestEpoch` and checkpoints are those of the student (hard-label accuracy).
 *
 * For `'attention+kd'` pass plain kws-kit CRNNs: both are viewed through `withAttentionOutput`
 * (the student's view shares its weights), and the teacher's attention over its `Tt` steps is
 * resampled to the student's `Ts` steps.
 *
 * @example
 * ```ts
 * const result = await distill({
 *   teacher: bigModel, student: crnn({ hiddenSize: 16 }), loss: 'mixed', temperature: 4, alpha: 0.5,
 *   train: data.splits.train!, validation: data.splits.validation!, epochs: 30, optimizer: 'adam',
 * });
 * ```
 * @returns the training loop's {@link TrainResult} (the student holds the trained weights)
 * @throws {@link KwsError} `INVALID_ARGUMENT` for bad options (alpha outside [0, 1], temperature ≤ 0,
 *   an attention loss with a model that has no attention, cached logits with augmentation,
 *   teacher = student, …) or teacher/student label counts that differ; `SHAPE_MISMATCH` when a
 *   model does not fit the data; anything {@link train} throws.
 */
export async function distill(options: DistillOptions): Promise<TrainResult> {
  const o = checkOptions('options', options) as Partial<DistillOptions>;
  const { teacher, student } = o;
  if (!isLayersModel(teacher))
    throw new KwsError('INVALID_ARGUMENT', 'teacher must be a tfjs-layers LayersModel');
  if (!isLayersModel(student))
    throw new KwsError('INVALID_ARGUMENT', 'student must be a tfjs-layers LayersModel');
  if (teacher === student) {
    throw new KwsError('INVALID_ARGUMENT', 'teacher and student must be different models');
  }
  const lossOption = o.loss ?? 'mixed';
  const custom = typeof lossOption === 'function' ? lossOption : null;
  const lossName = custom === null ? checkChoice('loss', lossOption, DISTILL_LOSSES) : 'custom';
  const temperature = checkNumber(
    'temperature',
    o.temperature ?? DEFAULT_KD_TEMPERATURE,
    0,
    Number.POSITIVE_INFINITY,
    true,
  );
  const alpha = checkNumber('alpha', o.alpha ?? DEFAULT_KD_ALPHA, 0, 1);
  const attentionWeight = checkNumber('attentionWeight', o.attentionWeight ?? 1, 0);
  const resample = checkChoice<AttentionResampling>('attentionResample', o.attentionResample ?? 'area', [
    'area',
    'linear',
  ]);
  const useAttention = checkBoolean('attention', o.attention ?? lossName === 'attention+kd');
  if (lossName === 'attention+kd' && !useAttention) {
    throw new KwsError('INVALID_ARGUMENT', "loss 'attention+kd' needs attention: true (the default)");
  }
  const augmenting = o.augment !== undefined;
  const cache = checkBoolean('cacheTeacherLogits', o.cacheTeacherLogits ?? !augmenting);
  if (cache && augmenting) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'cacheTeacherLogits: true cannot be combined with augment: the teacher must see each augmented clip',
    );
  }
  const extraVariables = o.extraVariables ?? [];
  if (!Array.isArray(extraVariables) || !extraVariables.every((v) => v instanceof tf.Variable)) {
    throw new KwsError('INVALID_ARGUMENT', 'extraVariables must be an array of tf.Variable');
  }

  const teacherClasses = outputClasses('teacher', teacher);
  const studentClasses = outputClasses('student', student);
  if (teacherClasses !== studentClasses) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `the teacher predicts ${teacherClasses} classes and the student ${studentClasses}; both must use the training labels`,
    );
  }
  const split = o.train as Split | undefined;
  if (typeof split !== 'object' || split === null || !(split.labels instanceof Int32Array)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'train must be a Split ({ features, frames, bins, labels, labelNames })',
    );
  }
  if (Array.isArray(split.labelNames) && split.labelNames.length !== teacherClasses) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `the teacher predicts ${teacherClasses} classes; the training split has ${split.labelNames.length} labels`,
    );
  }
  const channelAxis = teacherChannelAxis(teacher, split.frames, split.bins);
  const label = custom === null ? `'${lossName}'` : 'with attention';
  const teacherView = useAttention ? attentionView('teacher', teacher, label) : null;
  const studentView = useAttention ? attentionView('student', student, label) : null;

  const trainOptions: Record<string, unknown> = { ...o };
  for (const key of DISTILL_KEYS) delete trainOptions[key];
  const chunk = typeof o.batchSize === 'number' && o.batchSize >= 1 ? Math.floor(o.batchSize) : 100;
  const cached = cache ? cacheTeacher(teacher, teacherView, split, chunk, channelAxis) : null;

  const hooks: TrainHooks<TeacherOutputs> = {
    prepareBatch(batch: TrainBatchContext): TeacherOutputs {
      if (cached === null) {
        return runTeacher(
          teacher,
          teacherView,
          batch.features,
          batch.size,
          split.frames,
          split.bins,
          channelAxis,
        );
      }
      return {
        logits: gatherRows(cached.logits, cached.classes, batch.indices),
        attention:
          cached.attention === null ? null : gatherRows(cached.attention, cached.steps, batch.indices),
      };
    },
    disposeBatch(extra: TeacherOutputs): void {
      tf.dispose([extra.logits, extra.attention ?? []].flat());
    },
    lossFn(ctx: TrainLossContext<TeacherOutputs>): tf.Scalar {
      const t = ctx.extra as TeacherOutputs;
      const s = ctx.logits;
      const ce = ctx.classWeights === undefined ? {} : { classWeights: ctx.classWeights };
      switch (lossName) {
        case 'kd':
          return kdLoss(s, t.logits, { temperature });
        case 'mixed':
          return mixedKdLoss(s, t.logits, ctx.labels, { alpha, temperature, ...ce });
        case 'mse':
          return logitMse(s, t.logits);
        case 'attention+kd': {
          const mixed = mixedKdLoss(s, t.logits, ctx.labels, { alpha, temperature, ...ce });
          const att = attentionKdLoss(ctx.outputs[1] as tf.Tensor, t.attention as tf.Tensor2D, { resample });
          return tf.add(mixed, tf.mul(att, attentionWeight)) as tf.Scalar;
        }
        default: {
          const fn = custom as DistillLossFn;
          const context: DistillLossContext = {
            studentLogits: s,
            teacherLogits: t.logits,
            labels: ctx.labels,
            inputs: ctx.inputs,
            indices: ctx.indices,
            temperature,
            alpha,
            classWeights: ctx.classWeights,
          };
          if (useAttention) {
            context.studentAttention = ctx.outputs[1] as tf.Tensor;
            context.teacherAttention = t.attention as tf.Tensor2D;
          }
          return fn(context);
        }
      }
    },
    extraVariables,
  };
  if (studentView !== null) {
    const view = studentView;
    hooks.forward = (x: tf.Tensor): tf.Tensor[] => view.apply(x, { training: true }) as tf.Tensor[];
  }
  return train(student, trainOptions as unknown as TrainOptions, hooks);
}
