/**
 * On-disk cache of per-clip features, so that loading a data set a second time skips decoding
 * and the front end.
 *
 * One small file per clip: `<cacheDir>/<h[0..2]>/<h>.f32` where `h` is the SHA-1 of the cache
 * key (the clip's absolute path, size and modification time, plus the front-end configuration,
 * sample rate and clip length, see {@link featureCacheKey}). A changed file or configuration
 * gives a new key, so stale entries are never read (they stay on disk until the folder is
 * deleted). Content: a 16-byte header (`KWSF`, format version, frames, bins, as little-endian
 * uint32) and the features as little-endian float32, so cache files are portable.
 * Files are written to a temporary name and renamed, so concurrent loads never see half a file.
 *
 * @internal
 * @packageDocumentation
 */
import { DEFAULT_FRONT_END, type FrontEndConfig } from '../features/index.js';
import { type NodeFileSystem, nodeFileSystem } from '../node-builtins.js';
import { sha1Hex } from './sha1.js';

/** Bumped whenever decoding, resampling or the file format changes what a key maps to. */
const CACHE_FORMAT_VERSION = 1;
const MAGIC = 0x4657534b; // 'KWSF' read as a little-endian uint32
const HEADER_BYTES = 16;

/**
 * The part of a cache key shared by every clip of one load: front-end configuration (every
 * field, in a fixed order; an explicit window by the SHA-1 of its samples), sample rate and
 * clip length.
 */
export function featureConfigKey(config: FrontEndConfig, sampleRate: number, clipSamples: number): string {
  const fields = Object.keys(DEFAULT_FRONT_END).sort();
  const parts: unknown[] = [CACHE_FORMAT_VERSION, sampleRate, clipSamples];
  for (const f of fields) {
    const v = (config as unknown as Record<string, unknown>)[f];
    parts.push(
      v instanceof Float32Array
        ? `f32:${sha1Hex(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))}`
        : (v ?? null),
    );
  }
  return JSON.stringify(parts);
}

/** The full key of one clip. */
export function featureCacheKey(configKey: string, absPath: string, size: number, mtimeMs: number): string {
  return JSON.stringify([configKey, absPath, size, mtimeMs]);
}

function entryPath(
  path: NodeFileSystem['path'],
  cacheDir: string,
  key: string,
): { dir: string; file: string } {
  const h = sha1Hex(key);
  const dir = path.join(cacheDir, h.slice(0, 2));
  return { dir, file: path.join(dir, `${h}.f32`) };
}

function nodeModules(): Promise<NodeFileSystem> {
  return nodeFileSystem({
    caller: 'loadSpeechCommands with cacheDir',
    alternative: 'decodeWav, logMelSpectrogram and createSplit',
  });
}

/** The cached features of `key`, or `null` when absent, unreadable or of another shape. */
export async function readCachedFeatures(
  cacheDir: string,
  key: string,
  frames: number,
  bins: number,
): Promise<Float32Array | null> {
  const { fs, path } = await nodeModules();
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(entryPath(path, cacheDir, key).file);
  } catch {
    return null;
  }
  const count = frames * bins;
  if (bytes.length !== HEADER_BYTES + 4 * count) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    view.getUint32(0, true) !== MAGIC ||
    view.getUint32(4, true) !== CACHE_FORMAT_VERSION ||
    view.getUint32(8, true) !== frames ||
    view.getUint32(12, true) !== bins
  ) {
    return null;
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(HEADER_BYTES + 4 * i, true);
  return out;
}

let tempCounter = 0;

/** Stores `features` (`frames × bins`) under `key`. Rejects on I/O errors (e.g. read-only folder). */
export async function writeCachedFeatures(
  cacheDir: string,
  key: string,
  features: Float32Array,
  frames: number,
  bins: number,
): Promise<void> {
  const { fs, path } = await nodeModules();
  const { dir, file } = entryPath(path, cacheDir, key);
  const bytes = new Uint8Array(HEADER_BYTES + 4 * features.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, CACHE_FORMAT_VERSION, true);
  view.setUint32(8, frames, true);
  view.setUint32(12, bins, true);
  for (let i = 0; i < features.length; i++)
    view.setFloat32(HEADER_BYTES + 4 * i, features[i] as number, true);
  await fs.mkdir(dir, { recursive: true });
  tempCounter = (tempCounter + 1) % 1_000_000_000;
  const temp = `${file}.${process.pid}.${tempCounter}.tmp`;
  await fs.writeFile(temp, bytes);
  await fs.rename(temp, file);
}
