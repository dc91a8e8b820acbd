/**
 * A model embedded in a JavaScript module: the text of its `model.json` and its weight shards as
 * base64, so that it loads offline anywhere a bundle runs (no `fs`, no `fetch`). The generated
 * modules in this folder (one per pretrained model) have this shape; the plain files in the
 * repository's `pretrained/<name>/` folder hold the very same bytes.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../../errors.js';
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

/** One pretrained model of the catalog: its card, and a lazy import of its weights module. */
export interface PretrainedEntry {
  readonly card: ModelCard;
  /** Imports the generated module (a separate chunk in bundles, fetched only when called). */
  readonly load: () => Promise<EmbeddedModel>;
}
