/**
 * The pretrained-model registry: names ({@link listPretrained}), model cards
 * ({@link pretrainedCard}) and loading ({@link loadPretrained}).
 *
 * The weights ship inside the package as generated modules, one per model, each reached through a
 * dynamic `import()`: a bundle that never calls {@link loadPretrained} never includes them, and
 * loading works offline in Node and in a browser (the weights are decoded from base64 in memory,
 * no `fs`, no `fetch`). Given a URL instead, the same model is fetched by tfjs from the standard
 * `model.json` + shard files (the repository's `pretrained/<name>/` folder, served anywhere).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { checkOptions } from '../../validate.js';
import { modelFromArtifacts } from '../io.js';
import { PRETRAINED_CATALOG } from './catalog.js';
import {
  embeddedArtifacts,
  loadEmbeddedModel,
  type PretrainedEntry,
  registerQuantizeLayersFor,
} from './embedded-model.js';
import type { ModelCard } from './model-card.js';

/** Options of {@link loadPretrained}. */
export interface LoadPretrainedOptions {
  /**
   * URL of the model's `model.json` (its shards next to it), e.g. a copy of the package's
   * `pretrained/<name>/` folder on a CDN. Fetched with tfjs's HTTP loader `tf.io.http(url)` (so in Node it
   * must be `http(s)://`). Default: none, the weights embedded in the package are used.
   */
  url?: string;
}

/**
 * Names of the pretrained models shipped in the package, sorted, e.g. `['bcresnet1-gsc12', …]`.
 * Synchronous: the names and cards are in the package's main chunk, the weights are not.
 */
export function listPretrained(): string[] {
  return PRETRAINED_CATALOG.map((e) => e.card.name);
}

function entry(name: unknown, caller: string): PretrainedEntry {
  if (typeof name !== 'string') {
    throw new KwsError('INVALID_ARGUMENT', `${caller}: name must be a string; got ${typeof name}`);
  }
  const found = PRETRAINED_CATALOG.find((e) => e.card.name === name);
  if (found === undefined) {
    const names = listPretrained();
    throw new KwsError(
      'NOT_FOUND',
      `${caller}: no pretrained model named "${name}"; available: ${names.length > 0 ? names.join(', ') : '(none)'}`,
    );
  }
  return found;
}

/**
 * The model card of a pretrained model: task, labels in output order, front end (the options of
 * `logMelSpectrogram` its inputs need), architecture and factory options, training recipe, data
 * and its licence/attribution, validation accuracy, parameters, MACs and bytes. A fresh copy:
 * changing it changes nothing in the registry.
 *
 * @throws KwsError `NOT_FOUND` (listing the available names) for an unknown name.
 */
export function pretrainedCard(name: string): ModelCard {
  return structuredClone(entry(name, 'pretrainedCard').card) as ModelCard;
}

/**
 * The embedded tfjs artifacts of a pretrained model (topology, weight specs, weight data as one
 * `ArrayBuffer`, and the kws-kit metadata in `userDefinedMetadata`), without building a model:
 * for callers that transform weights before building (e.g. quantized export) or read metadata.
 *
 * @throws KwsError `NOT_FOUND` for an unknown name; `MODEL_FILE_CORRUPT` if the embedded data
 *   does not decode.
 */
export async function pretrainedArtifacts(name: string): Promise<tf.io.ModelArtifacts> {
  const e = entry(name, 'pretrainedArtifacts');
  return embeddedArtifacts(await e.load(), `pretrained model ${name}`);
}

/**
 * Loads a pretrained model as a `tfl.LayersModel` taking `[batch, frames, mels]` log-mel features
 * (see {@link pretrainedCard} for the front end) and returning logits `[batch, labels]`.
 * kws-kit's layer classes are registered first. The caller owns the model (`model.dispose()`).
 *
 * @example
 * ```ts
 * const model = await loadPretrained('bcresnet1-gsc12');
 * const { labels, frontEnd } = pretrainedCard('bcresnet1-gsc12');
 * ```
 * @param name One of {@link listPretrained}.
 * @param options `url`: fetch the standard files from there instead of the embedded copy.
 * @throws KwsError `NOT_FOUND` (listing the names) for an unknown name or a URL that cannot be
 *   fetched; `INVALID_ARGUMENT` for bad options; `MODEL_FILE_CORRUPT` for files that do not load;
 *   `MODEL_INVALID` if the model's outputs do not match the card's labels.
 */
export async function loadPretrained(
  name: string,
  options?: LoadPretrainedOptions,
): Promise<tfl.LayersModel> {
  const e = entry(name, 'loadPretrained');
  const opts = checkOptions('options', options);
  for (const key of Object.keys(opts)) {
    if (key !== 'url') {
      throw new KwsError('INVALID_ARGUMENT', `loadPretrained: unknown option "${key}"; allowed: url`);
    }
  }
  let model: tfl.LayersModel;
  if (opts.url === undefined) {
    model = await loadEmbeddedModel(await e.load(), `pretrained model ${name}`);
  } else {
    if (typeof opts.url !== 'string' || opts.url.length === 0) {
      throw new KwsError('INVALID_ARGUMENT', 'loadPretrained: options.url must be a non-empty string');
    }
    model = await loadFromUrl(opts.url);
  }
  const units = model.outputs[0]?.shape[1];
  if (model.outputs.length !== 1 || units !== e.card.labels.length) {
    model.dispose();
    throw new KwsError(
      'MODEL_INVALID',
      `loadPretrained: the model loaded for "${name}" has ${units ?? 'no'} outputs, its card ${e.card.labels.length} labels`,
    );
  }
  return model;
}

async function loadFromUrl(url: string): Promise<tfl.LayersModel> {
  let artifacts: tf.io.ModelArtifacts;
  try {
    const handler = tf.io.http(url);
    // The HTTP handler always has load(); the IOHandler type makes it optional.
    artifacts = await (handler.load as NonNullable<typeof handler.load>).call(handler);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // tfjs reports unreachable files as fetch failures or HTTP status errors.
    const missing = /fetch|status|404|ENOTFOUND|ECONNREFUSED|Failed to parse URL/i.test(message);
    throw new KwsError(
      missing ? 'NOT_FOUND' : 'MODEL_FILE_CORRUPT',
      `loadPretrained: cannot load ${url}: ${message}`,
    );
  }
  await registerQuantizeLayersFor(artifacts.modelTopology);
  try {
    return await modelFromArtifacts(artifacts);
  } catch (err) {
    if (err instanceof KwsError && err.code === 'MODEL_INVALID') throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new KwsError('MODEL_FILE_CORRUPT', `loadPretrained: cannot load ${url}: ${message}`);
  }
}
