/**
 * What a saved kws-kit model needs besides its weights: the label of each output and the front
 * end its inputs were computed with. Stored in `model.json`'s `userDefinedMetadata.kwsKit`, a
 * field stock tfjs loaders carry along untouched.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { type FrontEndConfig, resolveFrontEnd } from '../features/index.js';

/** The `kwsKit` entry of a saved model's `userDefinedMetadata`. */
export interface KwsModelMetadata {
  /** Format version of this record. */
  version: 1;
  /** Class names in output order (e.g. the v2-12 labels). */
  labels: string[];
  /** The front end the model's input features come from. */
  frontEnd: FrontEndConfig;
  /** Free-form facts (recipe, data, accuracy) for model cards. */
  info?: Record<string, unknown>;
}

/**
 * Builds the metadata record for {@link saveModel}'s `metadata` option.
 *
 * @throws KwsError `INVALID_ARGUMENT` for an empty or repeated label list or a bad front end.
 */
export function kwsMetadata(
  labels: readonly string[],
  frontEnd?: Partial<FrontEndConfig>,
  info?: Record<string, unknown>,
): { kwsKit: KwsModelMetadata } {
  checkLabels(labels, 'labels');
  const resolved = resolveFrontEnd(frontEnd);
  return { kwsKit: { version: 1, labels: [...labels], frontEnd: resolved, ...(info ? { info } : {}) } };
}

/**
 * Reads the kws-kit record from a model's `userDefinedMetadata`, or `null` when there is none.
 *
 * @throws KwsError `MODEL_FILE_CORRUPT` when a record is present but malformed.
 */
export function readKwsMetadata(userDefinedMetadata: unknown): KwsModelMetadata | null {
  if (userDefinedMetadata == null || typeof userDefinedMetadata !== 'object') return null;
  const record = (userDefinedMetadata as { kwsKit?: unknown }).kwsKit;
  if (record === undefined) return null;
  if (record === null || typeof record !== 'object') {
    throw new KwsError('MODEL_FILE_CORRUPT', 'userDefinedMetadata.kwsKit must be an object');
  }
  const r = record as Partial<KwsModelMetadata>;
  if (r.version !== 1) {
    throw new KwsError(
      'MODEL_FILE_CORRUPT',
      `unknown kwsKit metadata version ${String(r.version)}; expected 1`,
    );
  }
  try {
    checkLabels(r.labels, 'kwsKit.labels');
    return {
      version: 1,
      labels: [...(r.labels as string[])],
      frontEnd: resolveFrontEnd(r.frontEnd),
      info: r.info,
    };
  } catch (e) {
    if (e instanceof KwsError) throw new KwsError('MODEL_FILE_CORRUPT', `model metadata: ${e.message}`);
    throw e;
  }
}

function checkLabels(labels: unknown, name: string): void {
  if (
    !Array.isArray(labels) ||
    labels.length < 2 ||
    !labels.every((l) => typeof l === 'string' && l.length > 0) ||
    new Set(labels).size !== labels.length
  ) {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be at least two distinct non-empty class names`);
  }
}
