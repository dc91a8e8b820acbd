/**
 * Quantization-aware fine-tuning with a teacher: the `train()` hooks of a `prepareQat` handle
 * (int8 weights in the forward and backward pass, float masters updated) combined with the mixed
 * distillation loss α·CE + (1−α)·KD against a frozen teacher run on each (augmented) batch.
 * `distill()` owns its hooks, so the two are composed here rather than nested.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mixedKdLoss } from '../../src/distill/index.js';
import type { QatBatchState, QatModel } from '../../src/quantize/qat.js';
import type { TrainBatchContext, TrainHooks, TrainLossContext } from '../../src/train/index.js';

/** What each batch carries: the QAT masters set aside and the teacher's logits. */
export interface QatKdBatch {
  qat: QatBatchState;
  teacherLogits: tf.Tensor2D;
}

/** Hooks for `train(qat.model, options, hooks)` doing QAT with a mixed KD loss. */
export function qatKdHooks(
  qat: QatModel,
  teacher: tfl.LayersModel,
  frames: number,
  bins: number,
  kd: { temperature: number; alpha: number },
): TrainHooks<QatKdBatch> {
  const inner = qat.hooks;
  const channelAxis = (teacher.inputs[0] as tfl.SymbolicTensor).shape.length === 4;
  return {
    prepareBatch(batch: TrainBatchContext): QatKdBatch {
      const teacherLogits = tf.tidy(() => {
        const x = channelAxis
          ? tf.tensor4d(batch.features, [batch.size, frames, bins, 1])
          : tf.tensor3d(batch.features, [batch.size, frames, bins]);
        return teacher.apply(x, { training: false }) as tf.Tensor2D;
      });
      const state = (inner.prepareBatch as (b: TrainBatchContext) => QatBatchState)(batch);
      return { qat: state, teacherLogits };
    },
    disposeBatch(extra: QatKdBatch): void {
      (inner.disposeBatch as (s: QatBatchState) => void)(extra.qat);
      extra.teacherLogits.dispose();
    },
    lossFn(ctx: TrainLossContext<QatKdBatch>): tf.Scalar {
      const t = (ctx.extra as QatKdBatch).teacherLogits;
      return mixedKdLoss(ctx.logits, t, ctx.labels, { alpha: kd.alpha, temperature: kd.temperature });
    },
    aroundValidation<T>(validate: () => T): T {
      return inner.aroundValidation === undefined ? validate() : inner.aroundValidation(validate);
    },
  };
}
