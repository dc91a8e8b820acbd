/**
 * Inference-mode normalisation folded into a per-element scale and shift, and the layer-weight
 * reading it needs, shared by kws-kit's plain-TypeScript engines (the compiled conv runtime and
 * the streaming frame ops).
 *
 * At inference a BatchNormalization or {@link SubSpectralNorm} layer computes
 *
 * ```
 * y = (x − μ) / √(σ² + ε) · γ + β  =  x · scale + offset,
 * scale = γ / √(σ² + ε),  offset = β − μ · scale
 * ```
 *
 * with its moving statistics μ, σ², per channel (BatchNormalization over the last axis) or per
 * (sub-band, channel) (SubSpectralNorm: `subBands` equal groups of frequency rows). An engine
 * either applies `scale` and `offset` as one multiply-add per element or multiplies them into
 * the preceding linear layer (exact: the normalisation is affine).
 *
 * Values are float64 (JavaScript's number type); the folded scale and offset are computed in
 * float64 from the float32 weights.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';

type Layer = tfl.layers.Layer;

/**
 * A normalisation folded to `y = x · scale + offset`: `groups` equal groups of rows (1 for
 * BatchNormalization, `subBands` for SubSpectralNorm), each with one scale and offset per
 * channel. Row `r` of `rows` belongs to group `⌊r / (rows / groups)⌋`.
 */
export interface AffineNorm {
  /** Row groups: 1 for BatchNormalization, the number of sub-bands for SubSpectralNorm. */
  readonly groups: number;
  /** Channels (last axis). */
  readonly channels: number;
  /** `[groups, channels]`, `γ / √(σ² + ε)`. */
  readonly scale: Float64Array;
  /** `[groups, channels]`, `β − μ · scale`. */
  readonly offset: Float64Array;
}

/**
 * The error for a layer an engine cannot run: `MODEL_INVALID`, naming the layer and its class.
 *
 * @internal
 */
export function invalidLayer(layer: Layer, why: string): KwsError {
  return new KwsError('MODEL_INVALID', `layer "${layer.name}" (${layer.getClassName()}): ${why}`);
}

/**
 * A layer's weights by their short name (`kernel`, `bias`, `gamma`, `moving_mean`, …: the part
 * of the variable name after the last `/`), copied out as float64.
 *
 * @internal
 */
export function layerWeights(layer: Layer): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const w of layer.weights) {
    const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    // read() returns the variable itself (no new tensor); dataSync copies its values out.
    out.set(short, Float64Array.from(w.read().dataSync() as Float32Array));
  }
  return out;
}

/**
 * The weight `name` of `weights` (from {@link layerWeights}), which must hold `size` values.
 *
 * @throws KwsError `MODEL_INVALID` naming the layer when it is missing or has another size
 * @internal
 */
export function requireWeight(
  layer: Layer,
  weights: ReadonlyMap<string, Float64Array>,
  name: string,
  size: number,
): Float64Array {
  const w = weights.get(name);
  if (w === undefined || w.length !== size) {
    throw invalidLayer(layer, `expected a weight "${name}" of ${size} values; got ${w?.length ?? 'none'}`);
  }
  return w;
}

/**
 * Whether `layer` is a normalisation {@link foldNorm} can fold.
 *
 * @internal
 */
export function isFoldableNorm(layer: Layer): boolean {
  const cls = layer.getClassName();
  return cls === 'BatchNormalization' || cls === 'SubSpectralNorm';
}

/**
 * Folds an inference-mode BatchNormalization (over the last axis; `center: false` means β = 0,
 * `scale: false` means γ = 1) or SubSpectralNorm into {@link AffineNorm} for `channels`
 * channels. Axis checks are the caller's (it knows the rank of the input).
 *
 * @throws KwsError `MODEL_INVALID` naming the layer for another class or missing/mis-sized weights
 */
export function foldNorm(layer: Layer, channels: number): AffineNorm {
  const config = layer.getConfig();
  const cls = layer.getClassName();
  if (cls !== 'BatchNormalization' && cls !== 'SubSpectralNorm') {
    throw invalidLayer(layer, 'is not a BatchNormalization or SubSpectralNorm');
  }
  const groups = cls === 'SubSpectralNorm' ? (config.subBands as number) : 1;
  const epsilon = config.epsilon as number;
  const n = groups * channels;
  const w = layerWeights(layer);
  const batchNorm = cls === 'BatchNormalization';
  const gamma = batchNorm && config.scale === false ? null : requireWeight(layer, w, 'gamma', n);
  const beta = batchNorm && config.center === false ? null : requireWeight(layer, w, 'beta', n);
  const mean = requireWeight(layer, w, 'moving_mean', n);
  const variance = requireWeight(layer, w, 'moving_variance', n);
  const scale = new Float64Array(n);
  const offset = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const s = (gamma === null ? 1 : (gamma[p] as number)) / Math.sqrt((variance[p] as number) + epsilon);
    scale[p] = s;
    offset[p] = (beta === null ? 0 : (beta[p] as number)) - (mean[p] as number) * s;
  }
  return { groups, channels, scale, offset };
}

/**
 * A {@link AffineNorm} spelled out per element of a `[rows, channels]` frame: `scale` and
 * `offset` of length `rows · channels`, row `r` taking the values of its group.
 *
 * @throws KwsError `MODEL_INVALID` naming `layer` when `groups` does not divide `rows`
 */
export function expandAffineNorm(
  layer: Layer,
  norm: AffineNorm,
  rows: number,
): { scale: Float64Array; offset: Float64Array } {
  const { groups, channels } = norm;
  if (rows % groups !== 0) {
    throw invalidLayer(layer, `${groups} sub-bands must divide the ${rows} frequency rows`);
  }
  const perGroup = rows / groups;
  const scale = new Float64Array(rows * channels);
  const offset = new Float64Array(rows * channels);
  for (let r = 0; r < rows; r++) {
    const from = Math.floor(r / perGroup) * channels;
    scale.set(norm.scale.subarray(from, from + channels), r * channels);
    offset.set(norm.offset.subarray(from, from + channels), r * channels);
  }
  return { scale, offset };
}
