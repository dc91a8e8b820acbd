/**
 * A small view of a real Speech Commands folder for the demo's `--data DIR --limit N`: a new
 * folder of symbolic links to a seeded subset of the clips (at most N per keyword per split, and
 * an `_unknown_` pool of about 2·N clips spread over the other words), with split lists that keep
 * every clip in its original split, and a link to the background-noise recordings. The loader
 * then reads only those clips, so a quick demo does not decode 100 000 files.
 *
 * Node only (reads folders, writes links).
 *
 * @packageDocumentation
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { BACKGROUND_NOISE_FOLDER, SILENCE_LABEL, type SplitName, whichSet } from '../data/index.js';
import { KwsError } from '../errors.js';
import { createRng } from '../random.js';
import { checkInt } from '../validate.js';

/** What {@link linkSpeechCommandsSubset} made. */
export interface DataSubset {
  /** The new folder. */
  dir: string;
  /** Clips linked per split. */
  clips: Record<SplitName, number>;
  /** How the original clips were split: by its list files, or by the hash rule. */
  splitBy: 'lists' | 'hash';
}

function readList(path: string): Set<string> {
  if (!existsSync(path)) return new Set();
  return new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0),
  );
}

/**
 * Links a seeded subset of `source` into `target` (emptied first): for each keyword folder, at
 * most `limit` clips of each split; for the other word folders together, about `2·limit` clips
 * per split; `_silence_` clips are left out (the demo cuts silence from the background noise).
 *
 * @param keywords folders kept as classes; every other word folder feeds `_unknown_`.
 * @throws KwsError `NOT_FOUND` when `source` is not a folder with word folders.
 */
export function linkSpeechCommandsSubset(
  source: string,
  target: string,
  keywords: readonly string[],
  limit: number,
  seed: number,
): DataSubset {
  checkInt('limit', limit, 1);
  const from = resolve(source);
  let entries: string[];
  try {
    entries = readdirSync(from, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== BACKGROUND_NOISE_FOLDER && e.name !== SILENCE_LABEL)
      .map((e) => e.name)
      .sort();
  } catch {
    throw new KwsError('NOT_FOUND', `no Speech Commands folder at ${source}`);
  }
  if (entries.length === 0) {
    throw new KwsError(
      'NOT_FOUND',
      `${source} has no word folders (expected <word>/<speaker>_nohash_<n>.wav)`,
    );
  }
  const validation = readList(join(from, 'validation_list.txt'));
  const testing = readList(join(from, 'testing_list.txt'));
  const splitBy = validation.size + testing.size > 0 ? 'lists' : 'hash';
  const splitOf = (rel: string): SplitName =>
    splitBy === 'hash'
      ? whichSet(rel)
      : validation.has(rel)
        ? 'validation'
        : testing.has(rel)
          ? 'test'
          : 'train';
  const others = entries.filter((w) => !keywords.includes(w));
  const perOther = Math.max(1, Math.ceil((2 * limit) / Math.max(1, others.length)));
  const rng = createRng(seed);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const lists: Record<SplitName, string[]> = { train: [], validation: [], test: [] };
  for (const word of entries) {
    const files = readdirSync(join(from, word))
      .filter((f) => f.toLowerCase().endsWith('.wav'))
      .sort();
    const cap = keywords.includes(word) ? limit : perOther;
    const bySplit: Record<SplitName, string[]> = { train: [], validation: [], test: [] };
    for (const f of files) bySplit[splitOf(`${word}/${f}`)].push(f);
    for (const split of ['train', 'validation', 'test'] as const) {
      const chosen = rng.shuffle(bySplit[split]).slice(0, cap).sort();
      if (chosen.length === 0) continue;
      mkdirSync(join(target, word), { recursive: true });
      for (const f of chosen) {
        symlinkSync(join(from, word, f), join(target, word, f));
        lists[split].push(`${word}/${f}`);
      }
    }
  }
  if (existsSync(join(from, BACKGROUND_NOISE_FOLDER))) {
    symlinkSync(join(from, BACKGROUND_NOISE_FOLDER), join(target, BACKGROUND_NOISE_FOLDER), 'dir');
  }
  writeFileSync(join(target, 'validation_list.txt'), lists.validation.map((f) => `${f}\n`).join(''));
  writeFileSync(join(target, 'testing_list.txt'), lists.test.map((f) => `${f}\n`).join(''));
  return {
    dir: target,
    clips: { train: lists.train.length, validation: lists.validation.length, test: lists.test.length },
    splitBy,
  };
}
