/**
 * Per-layer signal-to-quantization-noise ratio between a float model and a quantized version of
 * it (a {@link simulateInt8} model, or a model loaded from quantized weights), to find the layers
 * that hurt.
 *
 * For each layer output y (float model) and ŷ (quantized model) over all samples and elements:
 * `SQNR = 10·log10(Σy² / Σ(y − ŷ)²)` dB. The error is cumulative (ŷ is computed from quantized
 * inputs), so SQNR falls along the network; a layer's `dropDb` (SQNR of its worst input minus
 * SQNR of its output) tells how much that layer itself made things worse. Each 6 dB is about one
 * bit: int8 everywhere typically gives 30–40 dB at the first layers.
 *
 * Layers are matched by tap name (see `calibrateActivations`); in a simulated model the output of
 * the {@link FakeQuant} layer that quantizes a tap is used, since that is what the next layer sees.
 *
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { checkOptions } from '../validate.js';
import { checkBatchSize, checkSamples, forEachBatch } from './batches.js';
import { FakeQuant } from './fake-quant.js';
import { checkLayersModel, layerCalls, modelTaps, type Tap, tapReader } from './graph.js';
import { sqnrFromPowers } from './weight-quantizers.js';

/** Options of {@link layerSqnr}. */
export interface LayerSqnrOptions {
  /** Examples per forward pass, ≥ 1. Default 32. */
  batchSize?: number;
}

/** SQNR of one tap. */
export interface LayerSqnr {
  /** Tap name (layer name; `name:i` for output i of a multi-output layer; input layer name). */
  name: string;
  /** Producing layer. */
  layer: string;
  /** Class of the producing layer in the float model. */
  className: string;
  /** SQNR of this output, dB (+Infinity when identical). */
  sqnrDb: number;
  /** Lowest SQNR among the layer's inputs, dB; null for the model input. */
  inputSqnrDb: number | null;
  /** `inputSqnrDb − sqnrDb`: the SQNR this layer lost (negative if it averaged noise away). */
  dropDb: number | null;
  /** Largest |y − ŷ|. */
  maxAbsError: number;
  /** Mean of y². */
  signalPower: number;
  /** Mean of (y − ŷ)². */
  noisePower: number;
  /** Number of values compared. */
  elements: number;
}

/** Comparison of the model outputs. */
export interface OutputComparison {
  /** SQNR of the (first) model output, dB. */
  sqnrDb: number;
  /** Largest |y − ŷ| of the output. */
  maxAbsError: number;
  /**
   * Fraction of examples whose arg-max class agrees (output `[n, classes]` with ≥ 2 classes),
   * else null.
   */
  top1Agreement: number | null;
}

/** Result of {@link layerSqnr}. */
export interface LayerSqnrReport {
  /** Number of examples compared. */
  samples: number;
  /** One entry per matched tap, in the float model's execution order. */
  layers: LayerSqnr[];
  /** Model output comparison. */
  output: OutputComparison;
  /** Taps of the float model with no counterpart in the quantized model. */
  unmatched: string[];
}

interface Sums {
  signal: number;
  noise: number;
  maxAbs: number;
  count: number;
}

/** Taps of a quantized model by name, with FakeQuant outputs standing in for their target. */
function quantizedTaps(taps: readonly Tap[]): Map<string, Tap> {
  const byName = new Map<string, Tap>();
  for (const tap of taps) if (!(tap.source instanceof FakeQuant)) byName.set(tap.name, tap);
  for (const tap of taps) {
    if (tap.source instanceof FakeQuant && tap.source.target !== '' && byName.has(tap.source.target)) {
      byName.set(tap.source.target, tap);
    }
  }
  return byName;
}

function accumulate(s: Sums, y: Float32Array, q: Float32Array): void {
  for (let i = 0; i < y.length; i++) {
    const a = y[i] as number;
    const d = a - (q[i] as number);
    s.signal += a * a;
    s.noise += d * d;
    const e = Math.abs(d);
    if (e > s.maxAbs) s.maxAbs = e;
  }
  s.count += y.length;
}

function argmaxAgreement(y: Float32Array, q: Float32Array, rows: number): number {
  const classes = y.length / rows;
  let agree = 0;
  for (let r = 0; r < rows; r++) {
    let by = 0;
    let bq = 0;
    for (let c = 1; c < classes; c++) {
      if ((y[r * classes + c] as number) > (y[r * classes + by] as number)) by = c;
      if ((q[r * classes + c] as number) > (q[r * classes + bq] as number)) bq = c;
    }
    if (by === bq) agree++;
  }
  return agree;
}

/**
 * Per-layer SQNR of `quantized` against `float` on `samples` (inference mode), plus the SQNR,
 * largest error and top-1 agreement of the model output. See the module documentation.
 *
 * @param float - the float32 model
 * @param quantized - a {@link simulateInt8} model of it, or the model loaded from quantized weights
 * @param samples - inputs `[n, ...one example]` fitting both models
 * @throws KwsError `INVALID_ARGUMENT` for bad arguments, `SHAPE_MISMATCH` for samples that do not
 *   fit or layers whose outputs differ in size, `EMPTY_INPUT` for n = 0, `MODEL_INVALID` when no
 *   layer matches by name or the outputs differ in size
 */
export function layerSqnr(
  float: tfl.LayersModel,
  quantized: tfl.LayersModel,
  samples: tf.Tensor,
  options?: LayerSqnrOptions,
): LayerSqnrReport {
  const f = checkLayersModel('float', float);
  const q = checkLayersModel('quantized', quantized);
  const batchSize = checkBatchSize(checkOptions('options', options).batchSize);
  const x = checkSamples(samples, f, q);

  const fCalls = layerCalls(f);
  const fTaps = modelTaps(f, fCalls);
  const qByName = quantizedTaps(modelTaps(q));
  const matched = fTaps.filter((t) => qByName.has(t.name));
  const unmatched = fTaps.filter((t) => !qByName.has(t.name)).map((t) => t.name);
  if (matched.length === 0) {
    throw new KwsError(
      'MODEL_INVALID',
      'no layer of the quantized model matches a layer of the float model by name',
    );
  }
  // The model outputs are read as two extra taps.
  const fOut: Tap = { ...(fTaps.find((t) => t.tensor === f.outputs[0]) as Tap), name: '\u0000output' };
  const qOutTensor = q.outputs[0] as tfl.SymbolicTensor;
  const qOut: Tap = { ...fOut, tensor: qOutTensor, source: qOutTensor.sourceLayer, isInput: false };
  const readFloat = tapReader(f, [...matched, fOut]);
  const readQuant = tapReader(q, [...matched.map((t) => qByName.get(t.name) as Tap), qOut]);

  const sums: Sums[] = [...matched, fOut].map(() => ({ signal: 0, noise: 0, maxAbs: 0, count: 0 }));
  let agree = 0;
  let classify = true;
  forEachBatch(x, batchSize, (batch) => {
    const ys = readFloat(batch);
    const qs = readQuant(batch);
    const rows = batch.shape[0] as number;
    ys.forEach((y, i) => {
      const qv = qs[i] as Float32Array;
      const name = i < matched.length ? (matched[i] as Tap).name : 'the model output';
      if (y.length !== qv.length) {
        throw new KwsError(
          i < matched.length ? 'SHAPE_MISMATCH' : 'MODEL_INVALID',
          `${name} has ${y.length} values in the float model but ${qv.length} in the quantized one`,
        );
      }
      accumulate(sums[i] as Sums, y, qv);
    });
    const y = ys[ys.length - 1] as Float32Array;
    const outShape = f.outputs[0]?.shape ?? [];
    classify = classify && outShape.length === 2 && y.length / rows >= 2;
    if (classify) agree += argmaxAgreement(y, qs[qs.length - 1] as Float32Array, rows);
  });

  const sqnrOf = new Map<string, number>();
  const layers: LayerSqnr[] = matched.map((tap, i) => {
    const s = sums[i] as Sums;
    const sqnrDb = sqnrFromPowers(s.signal, s.noise);
    sqnrOf.set(tap.name, sqnrDb);
    return {
      name: tap.name,
      layer: tap.layer,
      className: tap.className,
      sqnrDb,
      inputSqnrDb: null,
      dropDb: null,
      maxAbsError: s.maxAbs,
      signalPower: s.count === 0 ? 0 : s.signal / s.count,
      noisePower: s.count === 0 ? 0 : s.noise / s.count,
      elements: s.count,
    };
  });
  // Input SQNR of each call: the worst of the taps it reads.
  const tapOfTensor = new Map<number, string>(fTaps.map((t) => [t.tensor.id, t.name]));
  const inputsOf = new Map<string, number>();
  for (const call of fCalls) {
    const inputs = call.inputs
      .map((t) => sqnrOf.get(tapOfTensor.get(t.id) ?? ''))
      .filter((v): v is number => v !== undefined);
    if (inputs.length > 0) inputsOf.set(call.layer.name, Math.min(...inputs));
  }
  for (const l of layers) {
    const input = inputsOf.get(l.layer);
    if (input !== undefined && l.className !== 'InputLayer') {
      l.inputSqnrDb = input;
      l.dropDb = input === l.sqnrDb ? 0 : input - l.sqnrDb;
    }
  }
  const out = sums[sums.length - 1] as Sums;
  const n = x.shape[0] as number;
  return {
    samples: n,
    layers,
    output: {
      sqnrDb: sqnrFromPowers(out.signal, out.noise),
      maxAbsError: out.maxAbs,
      top1Agreement: classify ? agree / n : null,
    },
    unmatched,
  };
}
