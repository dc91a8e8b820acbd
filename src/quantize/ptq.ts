/**
 * Post-training weight quantization into files that stock TensorFlow.js loads.
 *
 * tfjs weight manifests know three storage forms besides float32: `float16`, and per-TENSOR
 * affine `uint8` / `uint16` (`{ min, scale }`, decoded as `float32(v·scale + min)`). tfjs has no
 * integer kernels: every stored form is decoded to float32 on load. So "int8" in a tfjs model
 * means (a) a smaller file, and (b) float32 weights that take only the values an int8 runtime
 * would use. The schemes, what each stores, and the error it adds (per weight, w → ŵ):
 *
 * | scheme | stored as | bytes/weight | error |
 * | --- | --- | ---: | --- |
 * | `float16` | float16 | 2 | relative ≤ 2⁻¹¹ (abs. ≤ 2⁻²⁵ below 2⁻¹⁴) |
 * | `uint8-affine` | uint8, per-tensor min/scale, zero exact | 1 | ≤ (max − min)/255/2 |
 * | `int8-per-tensor` | uint8 q + 128, symmetric (exact int8) | 1 | ≤ (max\|w\|/127)/2 |
 * | `int8-per-channel` | see below | 1 or 2 | see below |
 *
 * **Per-channel int8** (`s_c = max|w_c|/127` per output channel, error ≤ s_c/2, as int8 runtimes
 * quantize) **cannot be stored in one manifest entry**: an entry has a single `min`/`scale`. The
 * alternatives and why they were not taken: splitting the kernel into one weight per channel
 * changes the variables, so stock `tf.loadLayersModel` cannot load it; folding the channel scales
 * into a following layer only works for particular layer pairs (not GRU gates, not custom layers)
 * and changes the topology. So kws-kit keeps the per-channel int8 values in memory (`simulated`,
 * the weights `simulateInt8` uses, with their error in the report's `perChannel`) and writes,
 * selected by `perChannelStorage`:
 *
 * - `'uint8'` (default): the weight on the per-tensor `uint8-affine` grid (4× smaller; the best a
 *   stock uint8 entry can do). The file is the one `uint8-affine` writes; `maxAbsError`/`sqnrDb`
 *   describe it, `perChannel` the int8 values an int8 runtime would use.
 * - `'uint16'`: per-channel int8 with the channel scales rounded up to a common lattice
 *   `s_c = m_c·g` (integer m_c ≤ 258, `g = max|w|/32766`), whose values all lie on ONE uint16
 *   grid: the file holds that per-channel int8 model exactly, 2 bytes per weight (the size of
 *   float16). It equals the textbook per-channel values except in channels whose range is below
 *   1/258 of the largest, whose step is raised to g; `maxAbsError` ≤ (lattice s_c)/2.
 *
 * Channels are the output-channel axis (see {@link channelLayout}). By default only kernels are
 * quantized: biases, every rank < 2 weight and all normalization parameters (BatchNormalization,
 * LayerNormalization, kws-kit's SubSpectralNorm: gamma, beta, moving mean and variance) stay
 * float32, as integer runtimes keep them in high precision (biases in int32, norms folded into
 * the preceding kernel). Override with `skip`; `keepFloatAs: 'float16'` stores the kept weights
 * in float16 (in a small BC-ResNet, norm parameters are a third of the bytes or more).
 *
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { modelToArtifacts } from '../models/index.js';
import { checkChoice, checkNumber, checkOptions } from '../validate.js';
import { encodeFloat16, float16Value, isFloat16Finite } from './float16.js';
import { checkLayersModel, isNestedModel } from './graph.js';
import {
  type AffineEncoding,
  channelLayout,
  encodeInt8PerChannelLattice,
  encodeInt8PerTensor,
  encodeUint8Affine,
  errorStats,
  quantizeInt8PerChannel,
  sqnrFromPowers,
} from './weight-quantizers.js';

/** Weight quantization schemes; see the module documentation. */
export type WeightScheme = 'float16' | 'int8-per-channel' | 'int8-per-tensor' | 'uint8-affine';

/** Every {@link WeightScheme}. */
export const WEIGHT_SCHEMES: readonly WeightScheme[] = [
  'float16',
  'int8-per-channel',
  'int8-per-tensor',
  'uint8-affine',
];

/** How `int8-per-channel` weights are written; see the module documentation. */
export type PerChannelStorage = 'uint8' | 'uint16';

/** What a `skip` callback learns about a weight. */
export interface WeightInfo {
  /** Manifest name, e.g. `stem_conv/kernel`. */
  name: string;
  /** Name of the layer owning the weight. */
  layer: string;
  /** Weight name within the layer, e.g. `kernel`, `bias`, `gamma`, `recurrent_kernel`. */
  weight: string;
  /** Class of the owning layer, e.g. `Dense`, `SubSpectralNorm`. */
  className: string;
  /** Weight shape. */
  shape: number[];
}

/** Returns true to keep a weight in float32. */
export type WeightSkip = (layerName: string, weightName: string, info: WeightInfo) => boolean;

/** Options of {@link quantizeWeights}. */
export interface QuantizeWeightsOptions {
  /** The scheme (required); see the module documentation. */
  scheme: WeightScheme;
  /**
   * Weights to keep in float32 (return true). Default {@link keepFloatByDefault}: biases, every
   * weight of rank < 2, and normalization parameters.
   */
  skip?: WeightSkip;
  /**
   * Storage of `int8-per-channel` weights: `'uint8'` (default; 4× smaller file holding the
   * per-tensor uint8-affine grid, per-channel values simulated) or `'uint16'` (2× smaller file
   * holding a lattice-scaled per-channel int8 model exactly). Ignored by the other schemes.
   */
  perChannelStorage?: PerChannelStorage;
  /**
   * Storage of the float32 weights that `skip` keeps: `'float32'` (default, exact) or
   * `'float16'` (half the bytes, relative error ≤ 2⁻¹¹; a weight beyond ±65504 stays float32).
   * Norm parameters are a large share of a small BC-ResNet's bytes, so this matters there.
   */
  keepFloatAs?: 'float32' | 'float16';
  /**
   * Mixed precision: a weight whose quantized SQNR (of what the file would hold) falls below this
   * many dB is stored as float16 instead, and reported so. Default: none (every weight not
   * skipped gets the scheme). Useful for BC-ResNet, whose depthwise kernels have channel ranges
   * that differ a lot (a per-tensor uint8 grid crushes the small channels).
   */
  minSqnrDb?: number;
}

/** Error and scales of the per-channel int8 values of one weight (`int8-per-channel` only). */
export interface PerChannelReport {
  /** Number of channels. */
  channels: number;
  /** Int8 step s_c of each channel. */
  scales: number[];
  /** Largest |w − ŵ| in each channel (≤ scales[c]/2). */
  channelMaxAbsError: number[];
  /** Largest |w − ŵ| over the tensor. */
  maxAbsError: number;
  /** SQNR of the per-channel values, dB. */
  sqnrDb: number;
}

/** Storage dtype of a weight in the written manifest. */
export type StoredDtype = 'float32' | 'float16' | 'uint8' | 'uint16' | 'int32' | 'bool';

/** What happened to one weight. */
export interface WeightQuantReport {
  /** Manifest name. */
  name: string;
  /** Owning layer. */
  layer: string;
  /** Weight name within the layer. */
  weight: string;
  /** Class of the owning layer. */
  className: string;
  /** Shape. */
  shape: number[];
  /** The scheme applied, or `'none'` for a weight kept as it was. */
  scheme: WeightScheme | 'none';
  /** How the file stores it. */
  dtype: StoredDtype;
  /** Bytes as float32 (or its own dtype). */
  bytesBefore: number;
  /** Bytes in the quantized file. */
  bytesAfter: number;
  /** Grid step of a uint8/uint16 entry (the manifest `scale`); null for float32/float16. */
  step: number | null;
  /** Largest |w − ŵ| of the values tfjs loads from the file. */
  maxAbsError: number;
  /** SQNR of the loaded values, dB (+Infinity when exact). */
  sqnrDb: number;
  /** For `int8-per-channel`: error and scales of the (textbook) per-channel int8 values. */
  perChannel?: PerChannelReport;
}

/** Totals over every weight of a {@link QuantizedModel}. */
export interface QuantizeTotals {
  /** Number of weights (manifest entries). */
  weights: number;
  /** How many were quantized (the rest kept their dtype). */
  quantized: number;
  /** Weight bytes as float32. */
  bytesBefore: number;
  /** Weight bytes as written. */
  bytesAfter: number;
  /** bytesBefore / bytesAfter. */
  ratio: number;
  /** Largest |w − ŵ| over all loaded weights. */
  maxAbsError: number;
  /** SQNR over all float32 weights together (Σw² / Σ(w − ŵ)²), dB. */
  sqnrDb: number;
}

/** Result of {@link quantizeWeights}. */
export interface QuantizedModel {
  /** The scheme applied. */
  scheme: WeightScheme;
  /** Storage used for `int8-per-channel`; null for the other schemes. */
  perChannelStorage: PerChannelStorage | null;
  /**
   * Model artifacts: the topology, `weightSpecs` with `quantization` fields, `weightData` packed
   * in the stored dtypes (one ArrayBuffer), and `userDefinedMetadata.kwsQuantization`
   * `{ scheme, perChannelStorage }`. Write with `saveArtifacts`, load with `modelFromArtifacts`
   * or stock `tf.loadLayersModel(tf.io.fromMemory(artifacts))`.
   */
  artifacts: tf.io.ModelArtifacts;
  /** One entry per weight, in manifest order. */
  report: WeightQuantReport[];
  /** Totals. */
  totals: QuantizeTotals;
  /**
   * Every float32 weight as tfjs decodes it from `artifacts` (bit for bit what a loaded model
   * holds), by manifest name.
   */
  dequantized: Map<string, Float32Array>;
  /**
   * Every float32 weight as the scheme's arithmetic defines it: equal to `dequantized`, except for
   * `int8-per-channel`, where it holds the per-channel int8 values (`s_c = max|w_c|/127`) that
   * `simulateInt8` uses.
   */
  simulated: Map<string, Float32Array>;
}

const NORM_CLASS = /Normali[sz]ation$|Norm$/;
const NORM_WEIGHTS = new Set(['gamma', 'beta', 'moving_mean', 'moving_variance']);

/**
 * The default `skip`: keeps in float32 every weight of rank < 2 (biases, BatchNormalization
 * vectors, scalars), every weight of a normalization layer (class name ending in `Normalization`
 * or `Norm`, e.g. SubSpectralNorm's `[subBands, C]` parameters) and any weight named `gamma`,
 * `beta`, `moving_mean` or `moving_variance`.
 */
export function keepFloatByDefault(_layerName: string, weightName: string, info: WeightInfo): boolean {
  return info.shape.length < 2 || NORM_CLASS.test(info.className) || NORM_WEIGHTS.has(weightName);
}

interface ResolvedOptions {
  scheme: WeightScheme;
  skip: WeightSkip;
  perChannelStorage: PerChannelStorage;
  keepFloatAs: 'float32' | 'float16';
  minSqnrDb: number | null;
}

/** Validates {@link QuantizeWeightsOptions}. */
function resolveQuantizeOptions(options: unknown): ResolvedOptions {
  if (options === undefined) {
    throw new KwsError('INVALID_ARGUMENT', `options.scheme is required; one of ${WEIGHT_SCHEMES.join(', ')}`);
  }
  const o = checkOptions('options', options as QuantizeWeightsOptions);
  const scheme = checkChoice('options.scheme', o.scheme, WEIGHT_SCHEMES);
  if (o.skip !== undefined && typeof o.skip !== 'function') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'options.skip must be a function (layerName, weightName, info) => boolean',
    );
  }
  const perChannelStorage = checkChoice('options.perChannelStorage', o.perChannelStorage ?? 'uint8', [
    'uint8',
    'uint16',
  ] as const);
  const keepFloatAs = checkChoice('options.keepFloatAs', o.keepFloatAs ?? 'float32', [
    'float32',
    'float16',
  ] as const);
  const minSqnrDb = o.minSqnrDb === undefined ? null : checkNumber('options.minSqnrDb', o.minSqnrDb);
  return { scheme, skip: o.skip ?? keepFloatByDefault, perChannelStorage, keepFloatAs, minSqnrDb };
}

/** Owning layer of every weight by manifest name (nested models are walked). */
function weightOwners(model: tfl.LayersModel): Map<string, { layer: string; className: string }> {
  const owners = new Map<string, { layer: string; className: string }>();
  const walk = (layers: readonly tfl.layers.Layer[]): void => {
    for (const layer of layers) {
      if (isNestedModel(layer)) {
        walk((layer as unknown as tfl.LayersModel).layers);
        continue;
      }
      for (const w of layer.weights) {
        owners.set(w.originalName, { layer: layer.name, className: layer.getClassName() });
      }
    }
  };
  walk(model.layers);
  return owners;
}

const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

interface Encoded {
  scheme: WeightScheme;
  bytes: Uint8Array;
  quantization: tf.io.WeightsManifestEntry['quantization'];
  dtype: StoredDtype;
  step: number | null;
  dequantized: Float32Array;
  simulated: Float32Array;
  perChannel?: PerChannelReport;
}

function asBytes(values: Uint8Array | Uint16Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function fromAffine(e: AffineEncoding, scheme: WeightScheme): Encoded {
  return {
    scheme,
    bytes: asBytes(e.values),
    quantization: { ...e.quantization },
    dtype: e.quantization.dtype,
    step: e.quantization.scale,
    dequantized: e.dequantized,
    simulated: e.dequantized,
  };
}

/** Float16 encoding, or the index of the first value beyond float16's range. */
function encodeHalf(values: Float32Array): Encoded | number {
  const bits = encodeFloat16(values);
  const dequantized = new Float32Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] as number;
    if (!isFloat16Finite(b)) return i;
    dequantized[i] = float16Value(b);
  }
  return {
    scheme: 'float16',
    bytes: asBytes(bits),
    quantization: { dtype: 'float16' },
    dtype: 'float16',
    step: null,
    dequantized,
    simulated: dequantized,
  };
}

function encodeWeight(values: Float32Array, info: WeightInfo, opts: ResolvedOptions): Encoded {
  switch (opts.scheme) {
    case 'float16': {
      const half = encodeHalf(values);
      if (typeof half === 'number') {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `weight ${info.name} holds ${values[half]}, beyond float16's range (±65504); keep it in float32 with skip, or use uint8-affine`,
        );
      }
      return half;
    }
    case 'uint8-affine':
      return fromAffine(encodeUint8Affine(values), opts.scheme);
    case 'int8-per-tensor':
      return fromAffine(encodeInt8PerTensor(values), opts.scheme);
    case 'int8-per-channel': {
      const layout = channelLayout(info.className, info.weight, info.shape);
      const pc = quantizeInt8PerChannel(values, layout);
      const stats = errorStats(values, pc.dequantized);
      const perChannel: PerChannelReport = {
        channels: pc.scales.length,
        scales: Array.from(pc.scales),
        channelMaxAbsError: Array.from(pc.channelMaxAbsError),
        ...stats,
      };
      const file: AffineEncoding =
        opts.perChannelStorage === 'uint16'
          ? encodeInt8PerChannelLattice(values, layout)
          : encodeUint8Affine(values);
      const stored = fromAffine(file, opts.scheme);
      return { ...stored, simulated: pc.dequantized, perChannel };
    }
  }
}

/** The encoding of one float32 weight, or null to keep it as float32. */
function encodeOrKeep(values: Float32Array, info: WeightInfo, opts: ResolvedOptions): Encoded | null {
  if (resolveSkip(opts.skip, info)) {
    if (opts.keepFloatAs === 'float32') return null;
    const half = encodeHalf(values);
    return typeof half === 'number' ? null : half;
  }
  checkFiniteWeight(info.name, values);
  const e = encodeWeight(values, info, opts);
  if (
    opts.minSqnrDb !== null &&
    e.scheme !== 'float16' &&
    errorStats(values, e.dequantized).sqnrDb < opts.minSqnrDb
  ) {
    const half = encodeHalf(values);
    if (typeof half !== 'number') return half;
  }
  return e;
}

function checkFiniteWeight(name: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i] as number)) {
      throw new KwsError(
        'MODEL_INVALID',
        `weight ${name} holds ${values[i]} at index ${i}; only finite weights can be quantized`,
      );
    }
  }
}

function resolveSkip(skip: WeightSkip, info: WeightInfo): boolean {
  const keep: unknown = skip(info.layer, info.weight, info);
  if (typeof keep !== 'boolean') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `options.skip returned ${typeof keep} for ${info.name}; it must return a boolean`,
    );
  }
  return keep;
}

/**
 * Quantizes the weights of a tfjs-layers model (see the module documentation for the schemes,
 * what is stored and the error bounds). The model itself is not changed.
 *
 * @example
 * ```ts
 * const q = await quantizeWeights(model, { scheme: 'uint8-affine' });
 * console.log(q.totals.ratio, q.totals.sqnrDb);
 * const small = await modelFromArtifacts(q.artifacts); // or saveArtifacts(q.artifacts, dir)
 * ```
 * @throws KwsError `INVALID_ARGUMENT` for a non-model, a missing or unknown scheme, a bad `skip`
 *   or `perChannelStorage`, or (float16) a weight beyond ±65504; `MODEL_INVALID` for non-finite
 *   weights or a model whose artifacts are already quantized.
 */
export async function quantizeWeights(
  model: tfl.LayersModel,
  options: QuantizeWeightsOptions,
): Promise<QuantizedModel> {
  const m = checkLayersModel('model', model, false);
  const opts = resolveQuantizeOptions(options);
  const artifacts = await modelToArtifacts(m);
  const owners = weightOwners(m);
  const data = artifacts.weightData as ArrayBuffer;
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  const report: WeightQuantReport[] = [];
  const dequantized = new Map<string, Float32Array>();
  const simulated = new Map<string, Float32Array>();
  let offset = 0;
  let signal = 0;
  let noise = 0;

  for (const spec of artifacts.weightSpecs ?? []) {
    if (spec.quantization !== undefined) {
      throw new KwsError('MODEL_INVALID', `weight ${spec.name} is already quantized`);
    }
    const shape = spec.shape.slice();
    const bytes = product(shape) * (DTYPE_BYTES[spec.dtype] ?? 4);
    const raw = new Uint8Array(data.slice(offset, offset + bytes));
    offset += bytes;
    const slash = spec.name.lastIndexOf('/');
    const owner = owners.get(spec.name) ?? { layer: spec.name.slice(0, Math.max(slash, 0)), className: '' };
    const info: WeightInfo = {
      name: spec.name,
      layer: owner.layer,
      weight: spec.name.slice(slash + 1),
      className: owner.className,
      shape,
    };
    const base = {
      name: spec.name,
      layer: info.layer,
      weight: info.weight,
      className: info.className,
      shape,
      bytesBefore: bytes,
    };

    if (spec.dtype !== 'float32') {
      specs.push({ ...spec });
      parts.push(raw);
      report.push({
        ...base,
        scheme: 'none',
        dtype: spec.dtype as StoredDtype,
        bytesAfter: bytes,
        step: null,
        maxAbsError: 0,
        sqnrDb: Number.POSITIVE_INFINITY,
      });
      continue;
    }
    const values = new Float32Array(raw.buffer);
    for (const v of values) signal += v * v;
    const e = encodeOrKeep(values, info, opts);
    if (e === null) {
      specs.push({ ...spec });
      parts.push(raw);
      dequantized.set(spec.name, values);
      simulated.set(spec.name, values);
      report.push({
        ...base,
        scheme: 'none',
        dtype: 'float32',
        bytesAfter: bytes,
        step: null,
        maxAbsError: 0,
        sqnrDb: Number.POSITIVE_INFINITY,
      });
      continue;
    }
    const stats = errorStats(values, e.dequantized);
    for (let i = 0; i < values.length; i++) {
      const d = (values[i] as number) - (e.dequantized[i] as number);
      noise += d * d;
    }
    specs.push({ name: spec.name, shape, dtype: 'float32', quantization: e.quantization });
    parts.push(e.bytes);
    dequantized.set(spec.name, e.dequantized);
    simulated.set(spec.name, e.simulated);
    const entry: WeightQuantReport = {
      ...base,
      scheme: e.scheme,
      dtype: e.dtype,
      bytesAfter: e.bytes.byteLength,
      step: e.step,
      ...stats,
    };
    if (e.perChannel !== undefined) entry.perChannel = e.perChannel;
    report.push(entry);
  }

  const weightData = concat(parts);
  const bytesBefore = report.reduce((s, r) => s + r.bytesBefore, 0);
  const bytesAfter = weightData.byteLength;
  const perChannelStorage = opts.scheme === 'int8-per-channel' ? opts.perChannelStorage : null;
  return {
    scheme: opts.scheme,
    perChannelStorage,
    artifacts: {
      ...artifacts,
      weightSpecs: specs,
      weightData,
      userDefinedMetadata: {
        ...(artifacts.userDefinedMetadata ?? {}),
        kwsQuantization: { scheme: opts.scheme, perChannelStorage },
      },
    },
    report,
    totals: {
      weights: report.length,
      quantized: report.filter((r) => r.scheme !== 'none').length,
      bytesBefore,
      bytesAfter,
      ratio: bytesAfter === 0 ? 1 : bytesBefore / bytesAfter,
      maxAbsError: report.reduce((mx, r) => Math.max(mx, r.maxAbsError), 0),
      sqnrDb: sqnrFromPowers(signal, noise),
    },
    dequantized,
    simulated,
  };
}

function concat(parts: readonly Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out.buffer;
}
