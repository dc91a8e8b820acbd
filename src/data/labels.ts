/**
 * Label sets of Speech Commands and the mapping from a clip's folder to its class index.
 *
 * The order of a label list is the model's output order: class `i` is `labels[i]`.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';

/** Label of 1 s clips of background noise or no speech. */
export const SILENCE_LABEL = '_silence_';
/** Label of every word outside the keyword set. */
export const UNKNOWN_LABEL = '_unknown_';
/** Folder of the long noise recordings; never a label. */
export const BACKGROUND_NOISE_FOLDER = '_background_noise_';

/**
 * The standard 12-class task ("v2-12"), in output order: the ten keywords `yes no up down left
 * right on off stop go`, then `_silence_` (index 10), then `_unknown_` (index 11).
 */
export const V2_12_LABELS: readonly string[] = Object.freeze([
  'yes',
  'no',
  'up',
  'down',
  'left',
  'right',
  'on',
  'off',
  'stop',
  'go',
  SILENCE_LABEL,
  UNKNOWN_LABEL,
]);

/** The 35 words of Speech Commands v0.02 ("v2-35"), alphabetical; no silence or unknown class. */
export const V2_35_LABELS: readonly string[] = Object.freeze([
  'backward',
  'bed',
  'bird',
  'cat',
  'dog',
  'down',
  'eight',
  'five',
  'follow',
  'forward',
  'four',
  'go',
  'happy',
  'house',
  'learn',
  'left',
  'marvin',
  'nine',
  'no',
  'off',
  'on',
  'one',
  'right',
  'seven',
  'sheila',
  'six',
  'stop',
  'three',
  'tree',
  'two',
  'up',
  'visual',
  'wow',
  'yes',
  'zero',
]);

/** A named label set or an explicit list of labels. */
export type LabelSet = 'v2-12' | 'v2-35' | readonly string[];

/**
 * The label list of a {@link LabelSet}: the named sets as documented on {@link V2_12_LABELS}
 * and {@link V2_35_LABELS}; a custom list is returned as given (copied), after checking that it
 * is non-empty, has no duplicates and names no folder that cannot be a class.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for an unknown name or a bad list.
 */
export function resolveLabels(labels: LabelSet = 'v2-12'): string[] {
  if (labels === 'v2-12') return [...V2_12_LABELS];
  if (labels === 'v2-35') return [...V2_35_LABELS];
  if (!Array.isArray(labels)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `labels must be 'v2-12', 'v2-35' or an array of label names; got ${JSON.stringify(labels) ?? typeof labels}`,
    );
  }
  if (labels.length === 0) throw new KwsError('INVALID_ARGUMENT', 'labels must name at least one class');
  const seen = new Set<string>();
  for (const [i, name] of labels.entries()) {
    if (
      typeof name !== 'string' ||
      name.length === 0 ||
      /[/\\]/.test(name) ||
      name === '.' ||
      name === '..'
    ) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `labels[${i}] must be a folder name (non-empty, no '/' or '\\'); got ${JSON.stringify(name)}`,
      );
    }
    if (name === BACKGROUND_NOISE_FOLDER) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `labels[${i}] is '${BACKGROUND_NOISE_FOLDER}', which holds noise recordings, not a class; ` +
          `use '${SILENCE_LABEL}' for noise clips`,
      );
    }
    if (seen.has(name)) throw new KwsError('INVALID_ARGUMENT', `labels has '${name}' twice`);
    seen.add(name);
  }
  return [...labels];
}

/**
 * Class index of a clip found in `folder`, or -1 if it is not used: a label folder maps to its
 * own index, `_silence_/` to the `_silence_` class (if listed), any other word folder (and an
 * `_unknown_/` folder) to `_unknown_` if listed, otherwise -1. Other `_…_` folders are never
 * words (→ -1).
 *
 * @internal
 */
export function folderLabel(folder: string, labels: readonly string[]): number {
  const own = labels.indexOf(folder);
  if (own >= 0) return own;
  if (folder === SILENCE_LABEL || folder === BACKGROUND_NOISE_FOLDER) return -1;
  if (folder.startsWith('_') && folder.endsWith('_') && folder !== UNKNOWN_LABEL) return -1;
  return labels.indexOf(UNKNOWN_LABEL);
}
