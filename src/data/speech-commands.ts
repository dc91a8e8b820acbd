/**
 * Loading Google's Speech Commands data set (Warden, arXiv:1804.03209, 2018) from its folder
 * layout into compact in-memory {@link Split}s of log-mel features.
 *
 * Expected layout (the layout of the official archives and of `gsc-dev`):
 *
 * ```
 * <dir>/
 *   <word>/<speaker>_nohash_<n>.wav    one folder per word (35 in v0.02)
 *   _silence_/*.wav                    optional 1 s noise clips (label `_silence_`)
 *   _unknown_/*.wav                    optional (test-release layout; label `_unknown_`)
 *   _background_noise_/*.wav           optional long noise recordings, never a label
 *   validation_list.txt                optional, relative paths `word/file.wav`, one per line
 *   testing_list.txt                   optional, likewise
 * ```
 *
 * Node only (reads files); `fs` is loaded when {@link loadSpeechCommands} runs, not at module
 * load, so browser bundles that never call it build.
 *
 * @packageDocumentation
 */
import type { Dirent } from 'node:fs';
import { KwsError } from '../errors.js';
import {
  decodeWav,
  type FrontEndConfig,
  type FrontEndOptions,
  logMelSpectrogram,
  resample,
  resolveFrontEnd,
  toMono,
} from '../features/index.js';
import { type NodeFileSystem, nodeFileSystem } from '../node-builtins.js';
import { createRng, type Rng } from '../random.js';
import { checkBoolean, checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import { fitClip } from './clip.js';
import type { Split } from './dataset.js';
import {
  featureCacheKey,
  featureConfigKey,
  readCachedFeatures,
  writeCachedFeatures,
} from './feature-cache.js';
import {
  BACKGROUND_NOISE_FOLDER,
  folderLabel,
  type LabelSet,
  resolveLabels,
  SILENCE_LABEL,
  UNKNOWN_LABEL,
} from './labels.js';
import { cutNoise, type NoiseCut, planNoiseCuts } from './silence.js';
import { resolveWhichSetOptions, type SplitName, whichSet } from './split.js';

/** The three splits, in the order they are processed and reported. */
const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

/** Files decoded between two yields to the event loop. */
const BATCH_FILES = 32;

/** Options of the silence examples of {@link loadSpeechCommands}. */
export interface SilenceOptions {
  /**
   * Number of clip-length examples of `_silence_` to cut from the `_background_noise_`
   * recordings, per split: one number for every loaded split, or a number per split
   * (e.g. `{ train: 300, validation: 40 }`). Cuts are at seeded random offsets (see
   * {@link planNoiseCuts}); their `files` entries read `_background_noise_/<name>.wav#<offset>`.
   * Default 0. Needs `_silence_` among the labels.
   */
  fromBackgroundNoise?: number | Partial<Record<SplitName, number>>;
  /** Use the clips of a `_silence_/` folder (they follow the split lists like any clip). Default `true`. */
  fromFolder?: boolean;
}

/** Options of {@link loadSpeechCommands}. */
export interface LoadSpeechCommandsOptions {
  /**
   * Classes, in model output order. `'v2-12'` (default): `yes no up down left right on off
   * stop go _silence_ _unknown_`. `'v2-35'`: the 35 words, alphabetical, no silence/unknown.
   * Or any list of folder names, plus `'_silence_'` / `'_unknown_'` if wanted. Words outside
   * the list become `_unknown_` if that label is listed, otherwise they are skipped.
   */
  labels?: LabelSet;
  /** Splits to load. Default all three. */
  splits?: readonly SplitName[];
  /**
   * How clips are assigned to splits. `'auto'` (default): from `validation_list.txt` /
   * `testing_list.txt` if either exists (a missing one counts as empty; every clip not listed is
   * train), otherwise by the hash rule ({@link whichSet}). `'lists'`: the lists, required.
   * `'hash'`: the hash rule even if lists exist.
   */
  splitBy?: 'auto' | 'lists' | 'hash';
  /** Hash rule: percentage of speakers in validation. Default 10. */
  validationPercentage?: number;
  /** Hash rule: percentage of speakers in test. Default 10. */
  testingPercentage?: number;
  /**
   * Fraction of the `_unknown_` pool (clips of words outside the label set) kept, per split, in
   * [0, 1]; the kept clips are a seeded random subset of `round(fraction · poolSize)` clips.
   * Default 1 (keep all, nothing is thrown away silently; balance with `classWeights` or
   * `balancedSampler`). On the full v0.02 set with v2-12 the pool is ≈ 60 % of the clips;
   * about 0.1 makes `_unknown_` as large as one keyword.
   */
  unknownFraction?: number;
  /** Where `_silence_` examples come from; see {@link SilenceOptions}. */
  silence?: SilenceOptions;
  /** Sample rate of the returned audio and of the front end, in Hz. Default 16000. Files at other rates are resampled. */
  sampleRate?: number;
  /** Every clip is cut or zero-padded (at the end) to this many samples. Default `sampleRate` (1 s). */
  clipSamples?: number;
  /** Seed of every random choice (unknown subsampling, silence cuts). Default 0. */
  seed?: number;
  /**
   * Called with `(done, total)` examples at the start, after every few files and at the end
   * (`done === total`). `total` counts the selected clip files plus the silence cuts.
   */
  onProgress?: (done: number, total: number) => void;
  /**
   * Front end of the features: options of `logMelSpectrogram` (default: `DEFAULT_FRONT_END`,
   * with `sampleRate` set to this loader's), or `false` to compute no features (the audio is
   * then always kept).
   */
  features?: FrontEndOptions | false;
  /**
   * Folder of an on-disk feature cache (created if missing). Entries are keyed by each file's
   * absolute path, size and modification time and by the front-end configuration, sample rate
   * and clip length, so a second load with the same settings reads features instead of decoding
   * audio, and any change recomputes. One ≈ 16 KB file per clip (see `feature-cache.ts`);
   * delete the folder to reclaim stale entries. With `keepAudio` the audio is still decoded
   * (only the front end is skipped); with `features: false` the cache is not used.
   * Default: no cache.
   */
  cacheDir?: string;
  /** Keep each example's fixed-length audio in `split.audio`. Default `false` (bounds memory). */
  keepAudio?: boolean;
}

/** Counters of one load. */
export interface LoadStats {
  /** Examples whose features came from the cache. */
  cacheHits: number;
  /** Examples whose features were computed (and, with a cache, stored). */
  cacheMisses: number;
  /** Files skipped because they could not be read or decoded (each has a warning). */
  skipped: number;
}

/** What {@link loadSpeechCommands} returns. */
export interface SpeechCommandsData {
  /** Class names in output order; `split.labels` index into this. */
  labels: string[];
  /** The requested splits. */
  splits: Partial<Record<SplitName, Split>>;
  /** The `_background_noise_` recordings, mono at `sampleRate`, full length (for noise mixing). */
  backgroundNoise: Float32Array[];
  /** Relative paths of {@link SpeechCommandsData.backgroundNoise}, same order. */
  backgroundNoiseFiles: string[];
  /** Problems that did not stop the load (skipped files, missing list entries, empty classes). */
  warnings: string[];
  stats: LoadStats;
}

interface Resolved {
  labels: string[];
  splits: Set<SplitName>;
  splitBy: 'auto' | 'lists' | 'hash';
  hash: { validationPercentage: number; testingPercentage: number };
  unknownFraction: number;
  silenceCounts: Record<SplitName, number>;
  silenceFromFolder: boolean;
  sampleRate: number;
  clipSamples: number;
  seed: number;
  onProgress: ((done: number, total: number) => void) | undefined;
  frontEnd: FrontEndConfig | null;
  cacheDir: string | undefined;
  keepAudio: boolean;
}

function resolveOptions(options: LoadSpeechCommandsOptions | undefined): Resolved {
  const o = checkOptions('options', options);
  const labels = resolveLabels(o.labels ?? 'v2-12');
  const splitList = o.splits ?? SPLIT_NAMES;
  if (!Array.isArray(splitList) || splitList.length === 0) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      "splits must be a non-empty array of 'train', 'validation', 'test'",
    );
  }
  const splits = new Set<SplitName>();
  for (const s of splitList) splits.add(checkChoice('splits[]', s, SPLIT_NAMES));
  const splitBy = checkChoice('splitBy', o.splitBy ?? 'auto', ['auto', 'lists', 'hash'] as const);
  const hash = resolveWhichSetOptions({
    validationPercentage: o.validationPercentage,
    testingPercentage: o.testingPercentage,
  });
  const unknownFraction = checkNumber('unknownFraction', o.unknownFraction ?? 1, 0, 1);
  const silence = checkOptions('silence', o.silence);
  const silenceFromFolder = checkBoolean('silence.fromFolder', silence.fromFolder ?? true);
  const silenceCounts = resolveSilenceCounts(silence.fromBackgroundNoise);
  if (!labels.includes(SILENCE_LABEL) && SPLIT_NAMES.some((s) => silenceCounts[s] > 0)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `silence.fromBackgroundNoise needs '${SILENCE_LABEL}' among the labels; got [${labels.join(', ')}]`,
    );
  }
  const sampleRate = checkInt('sampleRate', o.sampleRate ?? 16000, 1);
  const clipSamples = checkInt('clipSamples', o.clipSamples ?? sampleRate, 1);
  const seed = checkNumber('seed', o.seed ?? 0);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `onProgress must be a function (done, total) => void; got ${typeof o.onProgress}`,
    );
  }
  let frontEnd: FrontEndConfig | null = null;
  if (o.features !== false) {
    const fe = checkOptions('features', o.features);
    if (fe.sampleRate !== undefined && fe.sampleRate !== sampleRate) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `features.sampleRate (${String(fe.sampleRate)}) must equal sampleRate (${sampleRate}); ` +
          'the clips are resampled to sampleRate before the front end',
      );
    }
    frontEnd = resolveFrontEnd({ ...fe, sampleRate });
  }
  if (o.cacheDir !== undefined && (typeof o.cacheDir !== 'string' || o.cacheDir.length === 0)) {
    throw new KwsError('INVALID_ARGUMENT', 'cacheDir must be a non-empty folder path');
  }
  const keepAudio = checkBoolean('keepAudio', o.keepAudio ?? false) || frontEnd === null;
  return {
    labels,
    splits,
    splitBy,
    hash,
    unknownFraction,
    silenceCounts,
    silenceFromFolder,
    sampleRate,
    clipSamples,
    seed,
    onProgress: o.onProgress,
    frontEnd,
    cacheDir: frontEnd === null ? undefined : o.cacheDir,
    keepAudio,
  };
}

function resolveSilenceCounts(value: SilenceOptions['fromBackgroundNoise']): Record<SplitName, number> {
  if (value === undefined || typeof value === 'number') {
    const n = checkInt('silence.fromBackgroundNoise', value ?? 0, 0);
    return { train: n, validation: n, test: n };
  }
  const per = checkOptions('silence.fromBackgroundNoise', value);
  for (const key of Object.keys(per)) checkChoice('silence.fromBackgroundNoise key', key, SPLIT_NAMES);
  return {
    train: checkInt('silence.fromBackgroundNoise.train', per.train ?? 0, 0),
    validation: checkInt('silence.fromBackgroundNoise.validation', per.validation ?? 0, 0),
    test: checkInt('silence.fromBackgroundNoise.test', per.test ?? 0, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Folder walk
// ---------------------------------------------------------------------------------------------

interface Listing {
  /** Clip folders (everything but `_background_noise_`), sorted, with their sorted .wav names. */
  folders: { name: string; files: string[] }[];
  /** Sorted .wav names in `_background_noise_/`. */
  noise: string[];
  /** Audio files in other formats, counted to explain an empty walk. */
  otherAudio: number;
}

const AUDIO_ELSEWHERE = /\.(flac|mp3|ogg|opus|m4a|aac)$/i;
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function isDirectory({ fs, path }: NodeFileSystem, dir: string, entry: Dirent): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await fs.stat(path.join(dir, entry.name))).isDirectory();
  } catch {
    return false;
  }
}

async function walk(node: NodeFileSystem, dir: string): Promise<Listing> {
  const { fs, path } = node;
  let info: Awaited<ReturnType<typeof fs.stat>>;
  try {
    info = await fs.stat(dir);
  } catch (err) {
    throw new KwsError(
      'NOT_FOUND',
      `Speech Commands folder ${dir} cannot be read (${(err as Error).message}); expected a folder ` +
        'with one sub-folder of .wav clips per word',
    );
  }
  if (!info.isDirectory()) {
    throw new KwsError(
      'DATASET_INVALID',
      `${dir} is a file, not a folder; expected a Speech Commands folder with one sub-folder of .wav clips per word`,
    );
  }
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) =>
    byCodePoint(a.name, b.name),
  );
  const listing: Listing = { folders: [], noise: [], otherAudio: 0 };
  for (const entry of entries) {
    if (entry.name.startsWith('.') || !(await isDirectory(node, dir, entry))) continue;
    const names = (await fs.readdir(path.join(dir, entry.name), { withFileTypes: true }))
      .filter((e) => !e.isDirectory())
      .map((e) => e.name)
      .sort(byCodePoint);
    const wavs = names.filter((n) => /\.wav$/i.test(n) && !n.startsWith('.'));
    listing.otherAudio += names.filter((n) => AUDIO_ELSEWHERE.test(n)).length;
    if (entry.name === BACKGROUND_NOISE_FOLDER) listing.noise = wavs;
    else listing.folders.push({ name: entry.name, files: wavs });
  }
  if (!listing.folders.some((f) => f.files.length > 0)) {
    const hint =
      listing.otherAudio > 0
        ? ` It holds ${listing.otherAudio} audio file(s) in other formats (e.g. .flac): decode them to .wav first.`
        : '';
    throw new KwsError(
      'DATASET_INVALID',
      `${dir} is not a Speech Commands folder: expected sub-folders per word (yes/, no/, …) holding .wav ` +
        `clips, plus optional _silence_/ and _background_noise_/; found no .wav clip in any sub-folder.${hint}`,
    );
  }
  return listing;
}

async function readList(
  { fs, path }: NodeFileSystem,
  dir: string,
  name: string,
): Promise<Set<string> | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, name), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new KwsError(
      'DATASET_INVALID',
      `${path.join(dir, name)} cannot be read: ${(err as Error).message}`,
    );
  }
  const set = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const path = line.trim().replace(/\\/g, '/').replace(/^\.\//, '');
    if (path.length > 0) set.add(path);
  }
  return set;
}

// ---------------------------------------------------------------------------------------------
// Selection: which clips go into which split
// ---------------------------------------------------------------------------------------------

/** One example to produce: a clip file, or a cut of a noise recording. */
type Source = { kind: 'file'; rel: string; label: number } | { kind: 'noise'; cut: NoiseCut; label: number };

interface Assignment {
  perSplit: Record<SplitName, Source[]>;
  warnings: string[];
}

/**
 * One generator per split and purpose, forked from the seed in a fixed order whether or not the
 * split is loaded, so that a split's selection never depends on which other splits were asked for.
 */
function splitGenerators(seed: number): { unknown: Record<SplitName, Rng>; silence: Record<SplitName, Rng> } {
  const master = createRng(seed);
  const unknown = {} as Record<SplitName, Rng>;
  const silence = {} as Record<SplitName, Rng>;
  for (const name of SPLIT_NAMES) {
    unknown[name] = master.fork();
    silence[name] = master.fork();
  }
  return { unknown, silence };
}

async function assignSplits(
  node: NodeFileSystem,
  dir: string,
  listing: Listing,
  r: Resolved,
  unknownRngs: Record<SplitName, Rng>,
): Promise<Assignment> {
  const warnings: string[] = [];
  const { labels } = r;
  const silenceIndex = labels.indexOf(SILENCE_LABEL);
  const unknownIndex = labels.indexOf(UNKNOWN_LABEL);

  // A listed word without clips is almost always a typo or the wrong folder: refuse.
  const present = new Map(listing.folders.map((f) => [f.name, f.files.length]));
  const missing = labels.filter(
    (l) => l !== SILENCE_LABEL && l !== UNKNOWN_LABEL && (present.get(l) ?? 0) === 0,
  );
  if (missing.length > 0) {
    throw new KwsError(
      'DATASET_INVALID',
      `label(s) ${missing.map((m) => `'${m}'`).join(', ')} have no .wav clips: expected folder(s) ` +
        `${missing.map((m) => `${m}/`).join(', ')} in ${dir}`,
    );
  }

  let lists: { validation: Set<string>; test: Set<string> } | null = null;
  if (r.splitBy !== 'hash') {
    const validation = await readList(node, dir, 'validation_list.txt');
    const test = await readList(node, dir, 'testing_list.txt');
    if (validation !== null || test !== null) {
      lists = { validation: validation ?? new Set(), test: test ?? new Set() };
    } else if (r.splitBy === 'lists') {
      throw new KwsError(
        'NOT_FOUND',
        `splitBy 'lists' needs validation_list.txt and/or testing_list.txt in ${dir}; neither exists`,
      );
    }
  }

  const perSplit: Record<SplitName, Source[]> = { train: [], validation: [], test: [] };
  const onDisk = new Set<string>();
  for (const folder of listing.folders) {
    const label = folderLabel(folder.name, labels);
    const useFolder = label >= 0 && (label !== silenceIndex || r.silenceFromFolder);
    for (const file of folder.files) {
      const rel = `${folder.name}/${file}`;
      onDisk.add(rel);
      if (!useFolder) continue;
      let split: SplitName;
      if (lists === null) split = whichSet(rel, r.hash);
      else if (lists.test.has(rel)) split = 'test';
      else if (lists.validation.has(rel)) split = 'validation';
      else split = 'train';
      perSplit[split].push({ kind: 'file', rel, label });
    }
  }
  if (lists !== null) {
    for (const [name, set] of [
      ['validation_list.txt', lists.validation],
      ['testing_list.txt', lists.test],
    ] as const) {
      let absent = 0;
      let example = '';
      for (const p of set) {
        if (!onDisk.has(p)) {
          absent++;
          if (example === '') example = p;
        }
      }
      if (absent > 0) warnings.push(`${name}: ${absent} listed clip(s) are not in ${dir} (e.g. ${example})`);
    }
    let both = 0;
    for (const p of lists.validation) if (lists.test.has(p)) both++;
    if (both > 0)
      warnings.push(`${both} clip(s) are in both validation_list.txt and testing_list.txt; used as test`);
  }

  if (unknownIndex >= 0 && r.unknownFraction < 1) {
    for (const name of SPLIT_NAMES) {
      perSplit[name] = subsampleUnknown(perSplit[name], unknownIndex, r.unknownFraction, unknownRngs[name]);
    }
  }
  return { perSplit, warnings };
}

/** Keeps a seeded random `round(fraction·pool)` of the unknown clips, in their original order. */
function subsampleUnknown(sources: Source[], unknownIndex: number, fraction: number, rng: Rng): Source[] {
  const pool: number[] = [];
  sources.forEach((s, i) => {
    if (s.label === unknownIndex) pool.push(i);
  });
  const keep = new Set(rng.shuffle(pool).slice(0, Math.round(fraction * pool.length)));
  return sources.filter((s, i) => s.label !== unknownIndex || keep.has(i));
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** Mono samples of a WAV file at `sampleRate`. */
function decodeAt(bytes: Uint8Array, sampleRate: number): Float32Array {
  const wav = decodeWav(bytes);
  const mono = toMono(wav);
  return wav.sampleRate === sampleRate ? mono : resample(mono, wav.sampleRate, sampleRate);
}

/** True for errors that concern one file (bad bytes, unreadable file), which are skipped with a warning. */
function isFileProblem(err: unknown): err is Error {
  return (
    err instanceof KwsError ||
    (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string')
  );
}

async function loadNoise(
  { fs, path }: NodeFileSystem,
  dir: string,
  names: readonly string[],
  sampleRate: number,
  warnings: string[],
): Promise<{ audio: Float32Array[]; files: string[] }> {
  const audio: Float32Array[] = [];
  const files: string[] = [];
  for (const name of names) {
    const rel = `${BACKGROUND_NOISE_FOLDER}/${name}`;
    try {
      const samples = decodeAt(await fs.readFile(path.join(dir, BACKGROUND_NOISE_FOLDER, name)), sampleRate);
      if (samples.length === 0) {
        warnings.push(`${rel}: skipped, the file has no samples`);
        continue;
      }
      audio.push(samples);
      files.push(rel);
    } catch (err) {
      if (!isFileProblem(err)) throw err;
      warnings.push(`${rel}: skipped, ${err.message}`);
    }
  }
  return { audio, files };
}

/** Result of producing one example. */
interface Produced {
  features: Float32Array | null;
  audio: Float32Array | null;
  fromCache: boolean;
}

interface Context {
  node: NodeFileSystem;
  dir: string;
  r: Resolved;
  frames: number;
  bins: number;
  configKey: string;
  noise: Float32Array[];
  cacheWriteError: string | null;
}

async function produceFile(ctx: Context, rel: string): Promise<Produced> {
  const {
    r,
    node: { fs, path },
  } = ctx;
  const abs = path.resolve(ctx.dir, rel);
  let key: string | null = null;
  if (r.cacheDir !== undefined) {
    const info = await fs.stat(abs);
    key = featureCacheKey(ctx.configKey, abs, info.size, info.mtimeMs);
    if (!r.keepAudio) {
      const cached = await readCachedFeatures(r.cacheDir, key, ctx.frames, ctx.bins);
      if (cached !== null) return { features: cached, audio: null, fromCache: true };
    }
  }
  const samples = decodeAt(await fs.readFile(abs), r.sampleRate);
  if (samples.length === 0) throw new KwsError('EMPTY_INPUT', 'the file has no samples');
  const clip = fitClip(samples, r.clipSamples);
  if (r.frontEnd === null) return { features: null, audio: clip, fromCache: false };
  let features: Float32Array | null = null;
  let fromCache = false;
  if (key !== null && r.cacheDir !== undefined && r.keepAudio) {
    features = await readCachedFeatures(r.cacheDir, key, ctx.frames, ctx.bins);
    fromCache = features !== null;
  }
  if (features === null) {
    features = logMelSpectrogram(clip, r.frontEnd).data;
    if (key !== null && r.cacheDir !== undefined) {
      try {
        await writeCachedFeatures(r.cacheDir, key, features, ctx.frames, ctx.bins);
      } catch (err) {
        ctx.cacheWriteError ??= (err as Error).message;
      }
    }
  }
  return { features, audio: r.keepAudio ? clip : null, fromCache };
}

function produceNoise(ctx: Context, cut: NoiseCut): Produced {
  const clip = cutNoise(ctx.noise, cut, ctx.r.clipSamples);
  const features = ctx.r.frontEnd === null ? null : logMelSpectrogram(clip, ctx.r.frontEnd).data;
  return { features, audio: ctx.r.keepAudio ? clip : null, fromCache: false };
}

function sourceName(source: Source, noiseFiles: readonly string[]): string {
  return source.kind === 'file'
    ? source.rel
    : `${noiseFiles[source.cut.noiseIndex] as string}#${source.cut.offset}`;
}

const yieldToEventLoop = (): Promise<void> => new Promise((done) => setImmediate(done));

// ---------------------------------------------------------------------------------------------
// Public entry
// ---------------------------------------------------------------------------------------------

/**
 * Loads a Speech Commands folder (layout in the module notes) into memory: each requested split
 * as one {@link Split} of log-mel features (`[n, frames, bins]` in one `Float32Array`, ≈ 16 KB
 * per 1 s clip with the default front end), plus the background-noise recordings.
 *
 * Pipeline per clip: read → `decodeWav` → `toMono` → `resample` to `sampleRate` if the file's
 * rate differs → cut / zero-pad at the end to `clipSamples` → `logMelSpectrogram`. Within a
 * split, examples are ordered by folder name, then file name (code-point order), then the
 * silence cuts of `_background_noise_`.
 *
 * Labels: see {@link LoadSpeechCommandsOptions.labels}; `_background_noise_/` is never a class.
 * Splits: see {@link LoadSpeechCommandsOptions.splitBy}; `_silence_/` clips follow the lists
 * (or the hash rule) like any clip.
 *
 * Files are processed in small async batches (the event loop gets a turn every
 * 32 files). A file that cannot be read or decoded is skipped and reported in `warnings`; it
 * never aborts the load.
 *
 * @param dir - the data folder.
 * @param options - see {@link LoadSpeechCommandsOptions}.
 * @throws {@link KwsError} `NOT_FOUND` if `dir` does not exist (or `splitBy: 'lists'` finds no
 *   list), `DATASET_INVALID` if it is not a Speech Commands layout (no sub-folder with .wav
 *   clips) or a listed word has no clips, or silence cuts are asked for without long enough noise
 *   recordings, `INVALID_ARGUMENT` for bad options.
 *
 * @example
 * ```ts
 * const data = await loadSpeechCommands('gsc-dev-wav', { cacheDir: '.kws-cache' });
 * const train = data.splits.train!; // train.features: Float32Array [n, 101, 40]
 * console.log(data.labels, train.labels.length, data.warnings);
 * ```
 */
export async function loadSpeechCommands(
  dir: string,
  options?: LoadSpeechCommandsOptions,
): Promise<SpeechCommandsData> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', `dir must be a non-empty folder path; got ${typeof dir}`);
  }
  const r = resolveOptions(options);
  // Shape of every example, and an early check that the front end accepts this clip length.
  const probe = r.frontEnd === null ? null : logMelSpectrogram(new Float32Array(r.clipSamples), r.frontEnd);
  const frames = probe?.frames ?? 0;
  const bins = probe?.bins ?? 0;

  const node = await nodeFileSystem({
    caller: 'loadSpeechCommands',
    alternative: 'decodeWav and logMelSpectrogram on fetched clips, then createSplit',
  });
  const rngs = splitGenerators(r.seed);
  const listing = await walk(node, dir);
  const { perSplit, warnings } = await assignSplits(node, dir, listing, r, rngs.unknown);
  const noise = await loadNoise(node, dir, listing.noise, r.sampleRate, warnings);
  const silenceIndex = r.labels.indexOf(SILENCE_LABEL);
  for (const name of SPLIT_NAMES) {
    if (!r.splits.has(name) || r.silenceCounts[name] === 0) continue;
    for (const cut of planNoiseCuts(noise.audio, r.silenceCounts[name], r.clipSamples, rngs.silence[name])) {
      perSplit[name].push({ kind: 'noise', cut, label: silenceIndex });
    }
  }

  if (r.cacheDir !== undefined) {
    try {
      await node.fs.mkdir(r.cacheDir, { recursive: true });
    } catch (err) {
      warnings.push(
        `cacheDir ${r.cacheDir} cannot be created (${(err as Error).message}); loading without a cache`,
      );
      r.cacheDir = undefined;
    }
  }

  const ctx: Context = {
    node,
    dir,
    r,
    frames,
    bins,
    configKey: r.frontEnd === null ? '' : featureConfigKey(r.frontEnd, r.sampleRate, r.clipSamples),
    noise: noise.audio,
    cacheWriteError: null,
  };
  const stats: LoadStats = { cacheHits: 0, cacheMisses: 0, skipped: 0 };
  const total = SPLIT_NAMES.reduce((a, s) => a + (r.splits.has(s) ? perSplit[s].length : 0), 0);
  let done = 0;
  r.onProgress?.(0, total);

  const splits: Partial<Record<SplitName, Split>> = {};
  const size = frames * bins;
  for (const name of SPLIT_NAMES) {
    if (!r.splits.has(name)) continue;
    const sources = perSplit[name];
    let features = new Float32Array(sources.length * size);
    let labels = new Int32Array(sources.length);
    const files: string[] = [];
    const audio: Float32Array[] = [];
    let used = 0;
    for (let start = 0; start < sources.length; start += BATCH_FILES) {
      const batch = sources.slice(start, start + BATCH_FILES);
      const results = await Promise.all(
        batch.map(async (source) => {
          try {
            return source.kind === 'file'
              ? await produceFile(ctx, source.rel)
              : produceNoise(ctx, source.cut);
          } catch (err) {
            if (!isFileProblem(err)) throw err;
            return err;
          }
        }),
      );
      results.forEach((result, k) => {
        const source = batch[k] as Source;
        if (result instanceof Error) {
          warnings.push(`${sourceName(source, noise.files)}: skipped, ${result.message}`);
          stats.skipped++;
          return;
        }
        if (result.features !== null) features.set(result.features, used * size);
        if (result.audio !== null) audio.push(result.audio);
        if (result.fromCache) stats.cacheHits++;
        else if (result.features !== null) stats.cacheMisses++;
        labels[used] = source.label;
        files.push(sourceName(source, noise.files));
        used++;
      });
      done += batch.length;
      r.onProgress?.(done, total);
      await yieldToEventLoop();
    }
    if (used < sources.length) {
      features = features.slice(0, used * size);
      labels = labels.slice(0, used);
    }
    const split: Split = { features, frames, bins, labels, labelNames: r.labels, files };
    if (r.keepAudio) split.audio = audio;
    splits[name] = split;
    const counts = new Array<number>(r.labels.length).fill(0);
    for (const y of labels) counts[y] = (counts[y] as number) + 1;
    const empty = r.labels.filter((_, c) => counts[c] === 0);
    if (used === 0) warnings.push(`split '${name}' has no examples`);
    else if (empty.length > 0) warnings.push(`split '${name}' has no examples of ${empty.join(', ')}`);
  }
  if (ctx.cacheWriteError !== null) warnings.push(`feature cache not written: ${ctx.cacheWriteError}`);

  return {
    labels: [...r.labels],
    splits,
    backgroundNoise: noise.audio,
    backgroundNoiseFiles: noise.files,
    warnings,
    stats,
  };
}
