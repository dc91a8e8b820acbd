/**
 * Writing quantized models: `model.json` with a weight manifest whose entries carry tfjs's
 * `quantization` fields, and weight shards holding the stored bytes (float16, uint8 or uint16).
 * Stock `tf.loadLayersModel` reads them (browser: from a URL; Node: through kws-kit's
 * `loadModel` or `tf.io.fromMemory`) and dequantizes to float32 on load. Sizes are measured on
 * disk after writing.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { type SavedFileInfo, type SaveModelOptions, saveArtifacts } from '../models/index.js';
import { nodeBuiltin } from '../node-builtins.js';
import { checkOptions } from '../validate.js';
import { type QuantizedModel, type QuantizeWeightsOptions, quantizeWeights } from './ptq.js';

/** Options of {@link exportQuantized}: the quantization options plus the save options. */
export interface ExportQuantizedOptions extends Partial<QuantizeWeightsOptions>, SaveModelOptions {}

/** What {@link exportQuantized} wrote. */
export interface ExportedModel {
  /** Absolute path of the model folder. */
  dir: string;
  /** model.json, then the weight shards, with their sizes on disk. */
  files: SavedFileInfo[];
  /** Sum of the file sizes on disk. */
  bytesOnDisk: number;
  /** Size of model.json on disk. */
  modelJsonBytes: number;
  /** Size of the weight shards on disk. */
  weightBytes: number;
  /** Bytes the same weights take as float32 (what `saveModel` writes into shards). */
  floatWeightBytes: number;
  /** `floatWeightBytes / weightBytes`: ~2 for float16, ~4 for uint8 (less with float32 biases kept). */
  sizeRatio: number;
  /** The quantization that was written (report, artifacts, dequantized values). */
  quantized: QuantizedModel;
}

function isQuantizedModel(v: unknown): v is QuantizedModel {
  const q = v as Partial<QuantizedModel> | null;
  return (
    typeof q === 'object' &&
    q !== null &&
    typeof q.artifacts === 'object' &&
    Array.isArray(q.report) &&
    typeof q.totals === 'object'
  );
}

/**
 * Quantizes `model` (or takes an existing {@link QuantizedModel}) and writes it to `dir` in the
 * tfjs layers-model format (see `saveArtifacts`: crash-safe, sharded at `shardBytes`).
 *
 * @example
 * ```ts
 * const out = await exportQuantized(model, 'out/kws-uint8', { scheme: 'uint8-affine' });
 * console.log(out.sizeRatio, out.bytesOnDisk);
 * const loaded = await loadModel('out/kws-uint8'); // float32 weights, dequantized on load
 * ```
 * @param model - a tfjs-layers model (then `options.scheme` is required) or the result of
 *   `quantizeWeights`
 * @param dir - folder to write (created if missing)
 * @throws KwsError `INVALID_ARGUMENT` for bad arguments (see `quantizeWeights` and `saveArtifacts`)
 */
export async function exportQuantized(
  model: tfl.LayersModel | QuantizedModel,
  dir: string,
  options?: ExportQuantizedOptions,
): Promise<ExportedModel> {
  const o = checkOptions('options', options);
  const { shardBytes, ...quantizeOptions } = o;
  let quantized: QuantizedModel;
  if (isQuantizedModel(model)) {
    const given = Object.keys(quantizeOptions).filter(
      (k) => (quantizeOptions as Record<string, unknown>)[k] !== undefined,
    );
    if (given.length > 0) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `options ${given.join(', ')} apply when quantizing a model, not to an already quantized one; only shardBytes is allowed`,
      );
    }
    quantized = model;
  } else {
    quantized = await quantizeWeights(model, quantizeOptions as QuantizeWeightsOptions);
  }
  // Loaded before writing so that outside Node the error names this function, not saveArtifacts.
  const { stat } = await nodeBuiltin('fs/promises', {
    caller: 'exportQuantized',
    alternative: 'quantizeWeights, whose result holds the artifacts and byte counts',
  });
  const saveOptions: SaveModelOptions = shardBytes === undefined ? {} : { shardBytes };
  const saved = await saveArtifacts(quantized.artifacts, dir, saveOptions);
  const files: SavedFileInfo[] = [];
  for (const f of [saved.modelJson, ...saved.shards])
    files.push({ path: f.path, bytes: (await stat(f.path)).size });
  const modelJsonBytes = (files[0] as SavedFileInfo).bytes;
  const weightBytes = files.slice(1).reduce((s, f) => s + f.bytes, 0);
  const floatWeightBytes = quantized.totals.bytesBefore;
  return {
    dir: saved.dir,
    files,
    bytesOnDisk: modelJsonBytes + weightBytes,
    modelJsonBytes,
    weightBytes,
    floatWeightBytes,
    sizeRatio: weightBytes === 0 ? 1 : floatWeightBytes / weightBytes,
    quantized,
  };
}
