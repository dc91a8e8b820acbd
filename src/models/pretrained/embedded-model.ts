/**
 * A model embedded in a JavaScript module: the text of its `model.json` and its weight shards as
 * base64, so that it loads offline anywhere a bundle runs (no `fs`, no `fetch`). The generated
 * modules in this folder (one per pretrained model) have this shape; the plain files in the
 * repository's `pretrained/<name>/` folder hold the very same bytes.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { modelFromArtifacts } from '../io.js';
import { decodeBase64 } from './base64.js';
import type { ModelCard } from './model-card.js';

/** What a generated pretrained-model module exports. */
export interface EmbeddedModel {
  /** The model's `model.json`, byte for byte as in `pretrained/<name>/model.json`. */
  readonly modelJson: string;
  /** Its weight shards, concatenated in manifest order, as standard base64. */
  readonly weightsBase64: string;
}

/**
 * Decodes an embedded model into tfjs artifacts (`modelTopology`, `weightSpecs` of every manifest
 * group in order, `weightData` as one `ArrayBuffer`, plus `format`, `userDefinedMetadata`, …),
 * ready for `modelFromArtifacts`.
 *
 * @param source Where the model came from, for error messages.
 * @throws KwsError `MODEL_FILE_CORRUPT` for text that is not JSON or not a model.json, or base64
 *   that does not decode.
 */
export function embeddedArtifacts(model: EmbeddedModel, source: string): tf.io.ModelArtifacts {
  let json: tf.io.ModelJSON;
  let bytes: Uint8Array;
  try {
    json = JSON.parse(model.modelJson) as tf.io.ModelJSON;
    bytes = decodeBase64(model.weightsBase64);
  } catch (e) {
    throw new KwsError(
      'MODEL_FILE_CORRUPT',
      `${source}: embedded model does not decode: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (json === null || typeof json !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new KwsError('MODEL_FILE_CORRUPT', `${source}: embedded model.json has no weightsManifest`);
  }
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  // decodeBase64 returns a Uint8Array over its own buffer, so the buffer is exactly the weights.
  return tf.io.getModelArtifactsForJSONSync(json, specs, bytes.buffer as ArrayBuffer);
}

/** Layer classes of `kws-kit/quantize` that a shipped model may contain (int8 simulation). */
const QUANTIZE_LAYER_CLASSES = new Set(['FakeQuant', 'MovingFakeQuant']);

/** Every `class_name` in a layers-model topology (nested wrappers included). */
export function topologyClassNames(topology: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'class_name' && typeof value === 'string') names.add(value);
        else visit(value);
      }
    }
  };
  visit(topology);
  return names;
}

/**
 * Registers the activation fake-quantization layers (`FakeQuant`, `MovingFakeQuant`) when
 * `topology` uses them, before it is built.
 * `kws-kit/quantize` is imported only then, so models without them never load it.
 */
export async function registerQuantizeLayersFor(topology: unknown): Promise<void> {
  const used = [...topologyClassNames(topology)].filter((c) => QUANTIZE_LAYER_CLASSES.has(c));
  if (used.length === 0) return;
  const quantize = await import('../../quantize/index.js');
  quantize.registerQuantizeLayers();
  quantize.registerQatLayers();
}

/**
 * Builds the model of an embedded module as `loadPretrained` does: weights decoded (float16 /
 * uint8 / uint16 entries dequantized to float32 by tfjs), kws-kit layers registered, and the
 * activation fake-quantization layers too when the topology has them.
 *
 * @param source Where the model came from, for error messages.
 * @throws KwsError as {@link embeddedArtifacts} and `modelFromArtifacts`.
 */
export async function loadEmbeddedModel(model: EmbeddedModel, source: string): Promise<tfl.LayersModel> {
  const artifacts = embeddedArtifacts(model, source);
  await registerQuantizeLayersFor(artifacts.modelTopology);
  return modelFromArtifacts(artifacts);
}

/** One pretrained model of the catalog: its card, and a lazy import of its weights module. */
export interface PretrainedEntry {
  readonly card: ModelCard;
  /** Imports the generated module (a separate chunk in bundles, fetched only when called). */
  readonly load: () => Promise<EmbeddedModel>;
}
