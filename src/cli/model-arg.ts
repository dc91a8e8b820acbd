/**
 * The `--model` / `--teacher` argument of the commands: the name of a pretrained model shipped
 * in the package (`listPretrained()`), or a folder (or model.json) written by `saveModel`.
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import {
  type KwsModelMetadata,
  listPretrained,
  loadArtifacts,
  modelFromArtifacts,
  pretrainedArtifacts,
  readKwsMetadata,
} from '../models/index.js';
import { UsageError } from './exit-codes.js';

/**
 * The artifacts a model argument names: a pretrained model by name (a name wins over a folder of
 * the same name), else a saved model folder or model.json.
 *
 * @throws KwsError `NOT_FOUND` (listing the pretrained names) when it is neither;
 *   `MODEL_FILE_CORRUPT` / `MODEL_INVALID` for files that are not a layers model.
 */
export async function resolveModelArtifacts(spec: string): Promise<tf.io.ModelArtifacts> {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'the model must be a pretrained name or a folder written by saveModel',
    );
  }
  const names = listPretrained();
  if (names.includes(spec)) return pretrainedArtifacts(spec);
  if (!existsSync(spec)) {
    throw new KwsError(
      'NOT_FOUND',
      `no model folder or model.json at ${spec}, and no pretrained model of that name; pretrained models: ${
        names.length > 0 ? names.join(', ') : '(none)'
      }`,
    );
  }
  return loadArtifacts(spec);
}

/** A loaded model and what its file says about it. */
export interface ResolvedModel {
  /** The model (the caller disposes it). */
  model: tfl.LayersModel;
  /** kws-kit's record (labels, front end), or null when the file has none. */
  metadata: KwsModelMetadata | null;
  /** The file's whole `userDefinedMetadata` (to carry over into derived models). */
  userDefinedMetadata: Record<string, unknown> | undefined;
  /** The argument as given. */
  source: string;
}

/**
 * Loads the model named by a command-line argument (see {@link resolveModelArtifacts}).
 *
 * @throws KwsError `NOT_FOUND` when nothing is there, `MODEL_FILE_CORRUPT` / `MODEL_INVALID` for
 *   a file that is not a loadable kws-kit model.
 */
export async function resolveModel(spec: string): Promise<ResolvedModel> {
  const artifacts = await resolveModelArtifacts(spec);
  const metadata = readKwsMetadata(artifacts.userDefinedMetadata);
  const model = await modelFromArtifacts(artifacts);
  return {
    model,
    metadata,
    userDefinedMetadata: artifacts.userDefinedMetadata as Record<string, unknown> | undefined,
    source: spec,
  };
}

/**
 * The class names of a model's outputs: `--labels` when given, else the model's metadata.
 *
 * @throws UsageError when neither names them.
 */
export function modelLabels(resolved: ResolvedModel, labels: readonly string[] | undefined): string[] {
  if (labels !== undefined) return [...labels];
  if (resolved.metadata !== null) return [...resolved.metadata.labels];
  throw new UsageError(
    `the model at ${resolved.source} has no kws-kit metadata naming its classes; pass --labels a,b,c`,
  );
}
