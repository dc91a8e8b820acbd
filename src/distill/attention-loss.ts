/**
 * Attention distillation: the student's attention over time (e.g. the CRNN's attention-pooling
 * weights from `withAttentionOutput`) is pulled towards the teacher's, after resampling the
 * teacher's distribution to the student's number of time steps.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../errors.js';
import { checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import { checkDistributionRows, checkFloatTensor, showShape } from './loss-checks.js';

/**
 * How a distribution over `Tt` time steps is mapped to `Ts` steps.
 *
 * - `'area'`: each step covers an equal share of the clip, [i/Tt, (i+1)/Tt); a target step
 *   receives the teacher mass of the span it covers, split proportionally where spans overlap.
 *   Mass is preserved exactly, so no renormalisation is needed. Integer downsampling sums
 *   groups of Tt/Ts steps; integer upsampling spreads each step evenly over Ts/Tt steps.
 * - `'linear'`: the teacher's weights are read as a piecewise-linear function of time and
 *   sampled at the target step centres (half-pixel convention: source position
 *   (j + 0.5)·Tt/Ts − 0.5, clamped to [0, Tt − 1]), then each row is renormalised to sum 1.
 *   When downsampling by more than 2x, steps between sample points are skipped; a row whose
 *   mass lies only there becomes all zeros. Prefer `'area'` for downsampling.
 */
export type AttentionResampling = 'area' | 'linear';

/** Options of {@link attentionKdLoss}. */
export interface AttentionKdLossOptions {
  /** How to resample the teacher to the student's length when they differ. Default `'area'`. */
  resample?: AttentionResampling;
  /** Added inside both logarithms so that zero weights give finite values. Default 1e-8. */
  eps?: number;
}

/** Options of {@link resampleAttention}. */
export interface ResampleAttentionOptions {
  /** Resampling method. Default `'area'`. */
  method?: AttentionResampling;
}

/** Default `eps` of {@link attentionKdLoss}. */
export const DEFAULT_ATTENTION_EPS = 1e-8;

const METHODS = ['area', 'linear'] as const;

/**
 * The `[from, to]` matrix M with resampled = p · M for rows p of length `from`.
 *
 * @internal
 */
export function resampleMatrix(from: number, to: number, method: AttentionResampling): Float32Array {
  const m = new Float32Array(from * to);
  if (method === 'area') {
    // Work on a grid of from·to units so that bin edges are integers: source step i spans
    // [i·to, (i+1)·to), target step j spans [j·from, (j+1)·from).
    for (let i = 0; i < from; i++) {
      const a0 = i * to;
      const a1 = a0 + to;
      const jFirst = Math.floor(a0 / from);
      const jLast = Math.min(to - 1, Math.floor((a1 - 1) / from));
      for (let j = jFirst; j <= jLast; j++) {
        const overlap = Math.min(a1, (j + 1) * from) - Math.max(a0, j * from);
        if (overlap > 0) m[i * to + j] = overlap / to;
      }
    }
    return m;
  }
  const ratio = from / to;
  for (let j = 0; j < to; j++) {
    const x = Math.min(Math.max((j + 0.5) * ratio - 0.5, 0), from - 1);
    const i0 = Math.floor(x);
    const i1 = Math.min(i0 + 1, from - 1);
    const f = x - i0;
    m[i0 * to + j] = (m[i0 * to + j] as number) + (1 - f);
    m[i1 * to + j] = (m[i1 * to + j] as number) + f;
  }
  return m;
}

/** Resamples validated `[batch, from]` rows to `length` steps. */
function resampleRows(p: tf.Tensor2D, length: number, method: AttentionResampling): tf.Tensor2D {
  const from = p.shape[1];
  if (from === length) return tf.clone(p) as tf.Tensor2D;
  return tf.tidy((): tf.Tensor2D => {
    const m = tf.tensor2d(resampleMatrix(from, length, method), [from, length]);
    const r = tf.matMul(p, m);
    if (method === 'area') return r as tf.Tensor2D;
    // Renormalise; the floor keeps an all-zero row at zero instead of 0/0 = NaN.
    return tf.div(r, tf.maximum(tf.sum(r, 1, true), 1e-30)) as tf.Tensor2D;
  });
}

/**
 * Resamples attention distributions over time to `length` steps (see
 * {@link AttentionResampling} for the two methods). Rows stay distributions.
 *
 * @param attention - float32 `[batch, T]`, rows non-negative summing to 1
 * @param length - target number of steps (integer >= 1)
 * @param options - see {@link ResampleAttentionOptions}
 * @returns `[batch, length]`; the caller disposes it (a copy when `length` equals T)
 * @throws KwsError `SHAPE_MISMATCH`, `INVALID_ARGUMENT` (rows that are not distributions, bad
 *   length or method), `EMPTY_INPUT`
 */
export function resampleAttention(
  attention: tf.Tensor,
  length: number,
  options?: ResampleAttentionOptions,
): tf.Tensor2D {
  const a = checkFloatTensor('attention', attention, 2, '[batch, time]') as tf.Tensor2D;
  checkInt('length', length, 1);
  const o = checkOptions('options', options);
  const method = checkChoice('method', o.method ?? 'area', METHODS);
  checkDistributionRows('attention', a.dataSync() as Float32Array, a.shape[0], a.shape[1]);
  return resampleRows(a, length, method);
}

/**
 * Attention-transfer loss over time: the KL divergence from the teacher's attention
 * distribution to the student's, averaged over the batch,
 *
 *   q = resample(teacher, Ts),   loss = (1/B) Σᵢ Σⱼ q_ij · (log(q_ij + ε) − log(p_ij + ε))
 *
 * where p is the student's attention `[B, Ts]` and the teacher's `[B, Tt]` is resampled to Ts
 * steps when Tt ≠ Ts (see {@link AttentionResampling}; default `'area'`, which preserves mass).
 * ε keeps the logarithms finite for zero weights (a zero teacher weight contributes 0).
 * KL(teacher ‖ student) is the direction of KD (Hinton et al. 2015): the student is penalised
 * for putting little weight where the teacher puts much. Distilling attention maps follows
 * Zagoruyko & Komodakis 2017 ("Paying More Attention to Attention"), here as distributions
 * over time rather than normalised spatial maps.
 *
 * Both inputs are read back to check that their rows are distributions (pass attention
 * weights, not scores). Usable inside `tf.variableGrads`; compute the teacher's attention
 * outside the tape.
 *
 * @param studentAttention - float32 `[batch, Ts]`, rows summing to 1
 * @param teacherAttention - float32 `[batch, Tt]`, rows summing to 1
 * @param options - see {@link AttentionKdLossOptions}
 * @returns a scalar in nats
 * @throws KwsError `SHAPE_MISMATCH` (not 2-D, batch sizes differ), `INVALID_ARGUMENT` (rows that
 *   are not distributions, bad options), `EMPTY_INPUT`
 */
export function attentionKdLoss(
  studentAttention: tf.Tensor,
  teacherAttention: tf.Tensor,
  options?: AttentionKdLossOptions,
): tf.Scalar {
  const s = checkFloatTensor('studentAttention', studentAttention, 2, '[batch, Ts]') as tf.Tensor2D;
  const t = checkFloatTensor('teacherAttention', teacherAttention, 2, '[batch, Tt]') as tf.Tensor2D;
  if (s.shape[0] !== t.shape[0]) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `studentAttention ${showShape(s.shape)} and teacherAttention ${showShape(t.shape)} must have the same batch size`,
    );
  }
  const o = checkOptions('options', options);
  const method = checkChoice('resample', o.resample ?? 'area', METHODS);
  const eps = checkNumber('eps', o.eps ?? DEFAULT_ATTENTION_EPS, 0, 1, true);
  const [batch, ts] = s.shape;
  checkDistributionRows('studentAttention', s.dataSync() as Float32Array, batch, ts);
  checkDistributionRows('teacherAttention', t.dataSync() as Float32Array, batch, t.shape[1]);
  return tf.tidy(() => {
    const q = resampleRows(t, ts, method);
    const diff = tf.sub(tf.log(tf.add(q, eps)), tf.log(tf.add(s, eps)));
    return tf.mean(tf.sum(tf.mul(q, diff), 1)) as tf.Scalar;
  });
}
