/**
 * Channel importance scores for structured pruning: the L1 norm of the filters that create a
 * channel (Li, Kadav, Durdanovic, Samet, Graf, "Pruning Filters for Efficient ConvNets", ICLR
 * 2017), or the magnitude of its batch-norm scale γ (Liu, Li, Shen, Huang, Yan, Zhang, "Learning
 * Efficient Convolutional Networks through Network Slimming", ICCV 2017).
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import type { ChannelAnalysis, ChannelGroup } from './channel-groups.js';

/** How channels are ranked: filter L1 norm, or batch-norm |γ| (network slimming). */
export type PruneCriterion = 'l1' | 'bn-scale';

/** The criteria {@link PruneCriterion} allows. */
export const PRUNE_CRITERIA: readonly PruneCriterion[] = ['l1', 'bn-scale'];

/**
 * Σ|w| per index of `axis` of a row-major tensor: `out[j] = Σ_{i : index_axis(i) = j} |values[i]|`.
 *
 * @param values - the tensor's elements, row-major
 * @param shape - its shape
 * @param axis - the axis to keep (0 … rank − 1)
 * @returns one sum per index of `axis` (float64)
 */
export function axisL1(values: Float32Array, shape: readonly number[], axis: number): Float64Array {
  const n = shape[axis] as number;
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < values.length; i++) {
    const j = Math.floor(i / inner) % n;
    out[j] = (out[j] as number) + Math.abs(values[i] as number);
  }
  return out;
}

/**
 * Folds per-column scores of a gated kernel (`[…, gates·units]`, gate-major as tfjs-layers' GRU
 * lays out z, r, h) into per-unit scores: `out[j] = Σ_g columns[g·units + j]`.
 */
export function foldGates(columns: Float64Array, gates: number): Float64Array {
  const units = columns.length / gates;
  const out = new Float64Array(units);
  for (let g = 0; g < gates; g++) {
    for (let j = 0; j < units; j++) out[j] = (out[j] as number) + (columns[g * units + j] as number);
  }
  return out;
}

/** A layer weight by its short name (`kernel`, `gamma`, …), or undefined. */
function weightNamed(layer: tfl.layers.Layer, short: string): tfl.LayerVariable | undefined {
  return layer.weights.find((w) => w.originalName.split('/').pop() === short);
}

function values(w: tfl.LayerVariable): Float32Array {
  return w.read().dataSync() as Float32Array;
}

/** Per-channel L1 norm of the filters a producer layer writes channel c with. */
function producerL1(layer: tfl.layers.Layer, className: string): Float64Array {
  const kernel = weightNamed(layer, 'kernel') as tfl.LayerVariable;
  const shape = kernel.shape as number[];
  const columns = axisL1(values(kernel), shape, shape.length - 1);
  if (className !== 'GRU') return columns;
  const recurrent = weightNamed(layer, 'recurrent_kernel') as tfl.LayerVariable;
  const rec = axisL1(values(recurrent), recurrent.shape as number[], 1);
  for (let i = 0; i < columns.length; i++) columns[i] = (columns[i] as number) + (rec[i] as number);
  return foldGates(columns, 3);
}

/** Per-channel |γ| of a normalisation layer (SubSpectralNorm: mean over its sub-bands). */
function gammaMagnitude(layer: tfl.layers.Layer): Float64Array | undefined {
  const gamma = weightNamed(layer, 'gamma');
  if (gamma === undefined) return undefined;
  const shape = gamma.shape as number[];
  const sums = axisL1(values(gamma), shape, shape.length - 1);
  const rows = shape.length === 2 ? (shape[0] as number) : 1;
  return sums.map((s) => s / rows);
}

/**
 * Importance of every channel of `group` (higher = kept first).
 *
 * - `'l1'`: for each producer layer, the L1 norm of the weights that write channel c (Dense and
 *   Conv2D kernel column / filter c, a 1 → C SpectralConv's kernel slice c, a GRU's kernel and
 *   recurrent-kernel columns of unit c in all three gates), divided by that layer's mean over
 *   channels so that layers of different fan-in weigh the same; summed over producers.
 * - `'bn-scale'`: Σ over the group's BatchNormalization / SubSpectralNorm layers of |γ_c|
 *   (SubSpectralNorm: mean of |γ[s, c]| over sub-bands).
 *
 * @throws KwsError `INVALID_ARGUMENT` for `'bn-scale'` on a group without a normalisation layer
 *   that has a scale γ.
 * @internal
 */
export function channelImportance(
  analysis: ChannelAnalysis,
  group: ChannelGroup,
  criterion: PruneCriterion,
): Float64Array {
  const byName = new Map(analysis.layers.map((l) => [l.layer.name, l]));
  const total = new Float64Array(group.size);
  const add = (scores: Float64Array, normalise: boolean): void => {
    let mean = 0;
    for (const s of scores) mean += s / scores.length;
    const scale = normalise && mean > 0 ? 1 / mean : 1;
    for (let c = 0; c < total.length; c++) total[c] = (total[c] as number) + (scores[c] as number) * scale;
  };
  if (criterion === 'l1') {
    for (const name of group.producers) {
      const l = byName.get(name);
      if (l !== undefined) add(producerL1(l.layer, l.className), true);
    }
    return total;
  }
  let found = 0;
  for (const name of group.members) {
    const l = byName.get(name);
    const g = l === undefined ? undefined : gammaMagnitude(l.layer);
    if (g === undefined) continue;
    add(g, false);
    found++;
  }
  if (found === 0) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `criterion 'bn-scale' ranks channels by batch-norm scales, but group ${group.name} has no ` +
        `BatchNormalization or SubSpectralNorm with a gamma; use criterion 'l1' or leave the group unpruned`,
    );
  }
  return total;
}

/**
 * The `keep` channels with the highest scores, in ascending channel order (ties: lower index
 * first), so kept channels stay in their original order.
 */
export function topChannels(scores: ArrayLike<number>, keep: number): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  return order.slice(0, keep).sort((a, b) => a - b);
}
