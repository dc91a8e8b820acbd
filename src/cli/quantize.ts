/**
 * `kws-kit quantize`: a saved model's weights quantized (`quantizeWeights`) and written
 * (`exportQuantized`) as a standard tfjs model that `loadModel` and stock
 * `tf.loadLayersModel` read, with the size report and, given calibration clips, the per-layer
 * SQNR of the quantized model against the float one.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadSpeechCommands, type Split } from '../data/index.js';
import { KwsError } from '../errors.js';
import { loadModel } from '../models/index.js';
import {
  type ExportedModel,
  exportQuantized,
  type LayerSqnrReport,
  layerSqnr,
  type QuantizeTotals,
  quantizeWeights,
  type WeightScheme,
} from '../quantize/index.js';
import { resolveModel } from './model-arg.js';

/** Options of {@link runQuantize}. */
export interface QuantizeCommandOptions {
  /** Model argument (see `resolveModel`). */
  model: string;
  scheme: WeightScheme;
  /** Folder to write. */
  out: string;
  /** Speech Commands folder whose clips measure the per-layer SQNR. */
  calibration?: string;
  /** How many of its clips (evenly spread over the folder). Default 200. */
  calibrationClips?: number;
  /** Storage of the weights kept in float (`'float32'` default, or `'float16'`). */
  keepFloatAs?: 'float32' | 'float16';
  /** Weights whose quantized SQNR is below this (dB) are stored as float16. */
  minSqnrDb?: number;
  onLoadProgress?: (done: number, total: number) => void;
}

/** One file written. */
export interface QuantizedFile {
  path: string;
  bytes: number;
}

/** What `kws-kit quantize --json` prints. */
export interface QuantizeCommandResult {
  /** Absolute folder written. */
  out: string;
  scheme: WeightScheme;
  files: QuantizedFile[];
  /** Sum of the files' sizes on disk. */
  bytesOnDisk: number;
  modelJsonBytes: number;
  weightBytes: number;
  /** Bytes of the same weights in float32. */
  floatWeightBytes: number;
  /** floatWeightBytes / weightBytes. */
  sizeRatio: number;
  totals: QuantizeTotals;
  /** Per-layer SQNR on the calibration clips (null without `calibration`). */
  sqnr: LayerSqnrReport | null;
}

/** The written model and, for the text report, the objects `formatQuantReport` renders. */
export interface QuantizeRun {
  result: QuantizeCommandResult;
  exported: ExportedModel;
}

/** `count` examples of `split`, evenly spread, as a model input tensor. */
function calibrationTensor(split: Split, count: number, model: tfl.LayersModel): tf.Tensor {
  const n = Math.min(count, split.labels.length);
  const size = split.frames * split.bins;
  const values = new Float32Array(n * size);
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * split.labels.length) / n);
    values.set(split.features.subarray(i * size, (i + 1) * size), k * size);
  }
  const rank = (model.inputs[0] as tfl.SymbolicTensor).shape.length;
  return tf.tensor(values, rank === 4 ? [n, split.frames, split.bins, 1] : [n, split.frames, split.bins]);
}

/**
 * Quantizes and writes the model; measures the per-layer SQNR on calibration clips if given.
 *
 * @throws KwsError `NOT_FOUND` / `MODEL_*` / `DATASET_INVALID` for missing or malformed inputs,
 *   `SHAPE_MISMATCH` for clips that do not fit the model, `INVALID_ARGUMENT` for bad options.
 */
export async function runQuantize(options: QuantizeCommandOptions): Promise<QuantizeRun> {
  const source = await resolveModel(options.model);
  try {
    const quantized = await quantizeWeights(source.model, {
      scheme: options.scheme,
      ...(options.keepFloatAs === undefined ? {} : { keepFloatAs: options.keepFloatAs }),
      ...(options.minSqnrDb === undefined ? {} : { minSqnrDb: options.minSqnrDb }),
    });
    // Keep the source's labels and front end (and any other record) next to the quantization record.
    quantized.artifacts.userDefinedMetadata = {
      ...(source.userDefinedMetadata ?? {}),
      ...(quantized.artifacts.userDefinedMetadata ?? {}),
    } as NonNullable<typeof quantized.artifacts.userDefinedMetadata>;
    const exported = await exportQuantized(quantized, options.out);
    let sqnr: LayerSqnrReport | null = null;
    if (options.calibration !== undefined) {
      const frontEnd = source.metadata?.frontEnd;
      const data = await loadSpeechCommands(options.calibration, {
        labels: source.metadata?.labels ?? 'v2-12',
        ...(frontEnd === undefined ? {} : { features: frontEnd, sampleRate: frontEnd.sampleRate }),
        ...(options.onLoadProgress === undefined ? {} : { onProgress: options.onLoadProgress }),
      });
      const split = Object.values(data.splits).find((s) => s !== undefined && s.labels.length > 0);
      if (split === undefined) {
        throw new KwsError('DATASET_INVALID', `no clips in ${options.calibration} to calibrate with`);
      }
      const loaded = await loadModel(exported.dir);
      const samples = calibrationTensor(split, options.calibrationClips ?? 200, source.model);
      try {
        sqnr = layerSqnr(source.model, loaded, samples);
      } finally {
        samples.dispose();
        loaded.dispose();
      }
    }
    return {
      exported,
      result: {
        out: exported.dir,
        scheme: options.scheme,
        files: exported.files.map((f) => ({ path: f.path, bytes: f.bytes })),
        bytesOnDisk: exported.bytesOnDisk,
        modelJsonBytes: exported.modelJsonBytes,
        weightBytes: exported.weightBytes,
        floatWeightBytes: exported.floatWeightBytes,
        sizeRatio: exported.sizeRatio,
        totals: quantized.totals,
        sqnr,
      },
    };
  } finally {
    source.model.dispose();
  }
}
