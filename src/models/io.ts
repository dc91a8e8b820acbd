/**
 * Saving and loading tfjs-layers models on a Node file system, in the files tfjs-converter
 * writes and the browser's `tf.loadLayersModel('https://…/model.json')` reads: a `model.json`
 * (`{ modelTopology, format: 'layers-model', generatedBy, convertedBy, weightsManifest }`) and
 * the weight bytes cut into shards named `group1-shard1of2.bin`, `group1-shard2of2.bin`, …
 *
 * Without `@tensorflow/tfjs-node` there is no `file://` handler (`model.save('file://…')` finds
 * no save handler, and `loadLayersModel` of a path goes to `fetch`), so this module is that
 * handler. Two layers:
 * - {@link saveArtifacts} / {@link loadArtifacts} move {@link tf.io.ModelArtifacts} between
 *   memory and disk. They accept any weight specs, including ones with a `quantization` field
 *   (uint8, uint16, float16), so a caller can write transformed weights through the same path.
 * - {@link saveModel} / {@link loadModel} add the step from and to a `tfl.LayersModel`
 *   ({@link modelToArtifacts}, {@link modelFromArtifacts}).
 *
 * Everything read is checked before tfjs sees it (weightData handed to tfjs is always a plain
 * `ArrayBuffer`: a Node `Buffer` loads without error but gives garbage weights). A file that is
 * missing throws `KwsError` `NOT_FOUND`; one that is truncated, malformed or disagrees with its
 * manifest throws `MODEL_FILE_CORRUPT` naming the file and the fault.
 *
 * Node built-ins (`fs`, `path`) are imported lazily inside the file functions, so bundling
 * `kws-kit/models` for a browser does not pull them in; the in-memory helpers work anywhere.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError, type KwsErrorCode } from '../errors.js';
import { type NodeFileSystem, nodeFileSystem } from '../node-builtins.js';
import { checkBoolean, checkInt, checkOptions } from '../validate.js';
import { registerKwsLayers } from './layers/register.js';

/** Default largest weight shard: 4 MiB (4 194 304 bytes), tfjs-converter's default. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

/** Name of the model description file inside a model folder. */
export const MODEL_JSON = 'model.json';

/** Options of {@link saveModel} and {@link saveArtifacts}. */
export interface SaveModelOptions {
  /**
   * Largest shard, in bytes (an integer >= 1). The weight bytes are concatenated in manifest order
   * and cut every `shardBytes` bytes, so one weight may straddle two shards, as with
   * tfjs-converter. Default {@link DEFAULT_SHARD_BYTES} (4 MiB).
   */
  shardBytes?: number;
  /**
   * JSON-serialisable facts stored as `userDefinedMetadata` in `model.json` (stock loaders keep
   * it); kws-kit's own record is built by {@link kwsMetadata}. Only used by {@link saveModel}.
   */
  metadata?: Record<string, unknown>;
}

/** One file written by {@link saveArtifacts}. */
export interface SavedFileInfo {
  /** Absolute path of the file. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
}

/** What {@link saveModel} and {@link saveArtifacts} wrote. */
export interface SavedModelInfo {
  /** Absolute path of the model folder. */
  dir: string;
  /** The `model.json` file. */
  modelJson: SavedFileInfo;
  /** The weight shards, in manifest order (none for a model without weights). */
  shards: SavedFileInfo[];
  /** Bytes of weight data (sum of the shard sizes). */
  weightBytes: number;
  /** `modelJson.bytes + weightBytes`. */
  totalBytes: number;
}

/** Options of {@link loadModel} and {@link modelFromArtifacts}. */
export interface LoadModelOptions {
  /**
   * Passed to tfjs-layers: when true (default), a weight the model lacks or a model weight the
   * file lacks is an error; when false, both are ignored.
   */
  strict?: boolean;
}

// Bytes per stored value: plain dtypes, then the quantized storage dtypes of tfjs-core's decoder.
const VALUE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };
const QUANTIZED_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };

type Fail = (what: string) => never;

function failWith(code: KwsErrorCode, source: string): Fail {
  return (what: string) => {
    throw new KwsError(code, `${source}: ${what}`);
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Manifest checks (shared by files and in-memory artifacts)
// ---------------------------------------------------------------------------------------------

function checkQuantization(q: unknown, label: string, dtype: string, fail: Fail): string {
  if (!isRecord(q)) fail(`${label} has a "quantization" field that is not an object`);
  const qd = q.dtype;
  if (typeof qd !== 'string' || !(qd in QUANTIZED_BYTES)) {
    fail(`${label} has unknown quantization dtype ${JSON.stringify(qd)}; allowed: uint8, uint16, float16`);
  }
  if (qd === 'float16') {
    if (dtype !== 'float32') fail(`${label} is float16-quantized but its dtype is ${dtype}, not float32`);
  } else {
    for (const key of ['min', 'scale'] as const) {
      if (typeof q[key] !== 'number' || !Number.isFinite(q[key])) {
        fail(`${label} is ${qd}-quantized but its quantization.${key} is not a finite number`);
      }
    }
    if (dtype !== 'float32' && dtype !== 'int32') {
      fail(`${label} is ${qd}-quantized but its dtype is ${dtype}; allowed: float32, int32`);
    }
  }
  return qd;
}

/** Checks one manifest entry and returns its byte size in the weight data. */
function checkWeightEntry(entry: unknown, index: number, names: Set<string>, fail: Fail): number {
  if (!isRecord(entry)) fail(`weight entry ${index} is not an object`);
  const { name, shape, dtype } = entry;
  if (typeof name !== 'string' || name.length === 0) fail(`weight entry ${index} has no "name" string`);
  const label = `weight "${name}"`;
  if (names.has(name)) fail(`${label} appears twice in the manifest`);
  names.add(name);
  if (!Array.isArray(shape)) fail(`${label} has no "shape" array`);
  let size = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(`${label} has shape ${JSON.stringify(shape)}; dimensions must be integers >= 0`);
    }
    size *= d;
  }
  if (!Number.isSafeInteger(size)) fail(`${label} has shape ${JSON.stringify(shape)}, too large`);
  if (typeof dtype !== 'string' || !(dtype in VALUE_BYTES)) {
    fail(`${label} has unknown or unsupported dtype ${JSON.stringify(dtype)}; allowed: float32, int32, bool`);
  }
  if (entry.group !== undefined && entry.group !== 'model' && entry.group !== 'optimizer') {
    fail(`${label} has group ${JSON.stringify(entry.group)}; allowed: "model", "optimizer"`);
  }
  const stored =
    'quantization' in entry ? checkQuantization(entry.quantization, label, dtype, fail) : (dtype as string);
  const bytes = size * ((VALUE_BYTES[stored] ?? QUANTIZED_BYTES[stored]) as number);
  if (!Number.isSafeInteger(bytes)) fail(`${label} is too large`);
  return bytes;
}

function checkWeightEntries(
  specs: unknown,
  where: string,
  names: Set<string>,
  fail: Fail,
): { specs: tf.io.WeightsManifestEntry[]; bytes: number } {
  if (!Array.isArray(specs)) fail(`${where} is not an array of weight entries`);
  let bytes = 0;
  specs.forEach((entry, i) => {
    bytes += checkWeightEntry(entry, i, names, fail);
  });
  return { specs: specs as tf.io.WeightsManifestEntry[], bytes };
}

/**
 * Byte length of the weight data that `specs` describe, as tfjs-core decodes it: for each entry
 * the product of its shape times 4 (float32, int32) or 1 (bool), or, for an entry with a
 * `quantization` field, times the quantized size (uint8 1, uint16 2, float16 2).
 *
 * @throws KwsError `INVALID_ARGUMENT` for a malformed entry, an unknown dtype or duplicate names.
 */
export function weightSpecsByteLength(specs: readonly tf.io.WeightsManifestEntry[]): number {
  return checkWeightEntries(specs, 'specs', new Set(), failWith('INVALID_ARGUMENT', 'weightSpecsByteLength'))
    .bytes;
}

// ---------------------------------------------------------------------------------------------
// In-memory artifacts
// ---------------------------------------------------------------------------------------------

/** Copies `data` into one fresh ArrayBuffer (never a view of Node's shared Buffer pool). */
function toArrayBuffer(parts: readonly Uint8Array[]): ArrayBuffer {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out.buffer;
}

function weightDataParts(data: unknown, fail: Fail): Uint8Array[] {
  if (data === undefined) return [];
  if (data instanceof ArrayBuffer) return [new Uint8Array(data)];
  if (ArrayBuffer.isView(data)) return [new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  if (Array.isArray(data)) {
    return data.map((d, i) => {
      if (!(d instanceof ArrayBuffer)) fail(`weightData[${i}] is not an ArrayBuffer`);
      return new Uint8Array(d);
    });
  }
  return fail('weightData must be an ArrayBuffer, an array of ArrayBuffers or a typed array');
}

interface CheckedArtifacts {
  topology: Record<string, unknown>;
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
}

function checkTopology(topology: unknown, format: unknown, fail: Fail): Record<string, unknown> {
  if (format !== undefined && format !== null && typeof format !== 'string') fail('"format" is not a string');
  if (format === 'graph-model') {
    throw new KwsError(
      'MODEL_INVALID',
      'a graph model (tfjs-converter output of a TensorFlow SavedModel) is not a layers model; load it with loadGraphModel from @tensorflow/tfjs-converter',
    );
  }
  if (!isRecord(topology)) fail('"modelTopology" is missing or not a JSON object');
  return topology;
}

/** Checks in-memory artifacts and returns the topology, specs and one ArrayBuffer of weights. */
function checkArtifacts(artifacts: unknown, fail: Fail): CheckedArtifacts {
  if (!isRecord(artifacts)) fail('artifacts must be an object with modelTopology, weightSpecs, weightData');
  const topology = checkTopology(artifacts.modelTopology, artifacts.format, fail);
  const parts = weightDataParts(artifacts.weightData, fail);
  const { specs, bytes } =
    artifacts.weightSpecs === undefined
      ? { specs: [], bytes: 0 }
      : checkWeightEntries(artifacts.weightSpecs, 'weightSpecs', new Set(), fail);
  let have = 0;
  for (const p of parts) have += p.byteLength;
  if (have !== bytes) {
    fail(`weightData holds ${have} bytes but the ${specs.length} weight specs need ${bytes} bytes`);
  }
  return { topology, specs, data: toArrayBuffer(parts) };
}

/**
 * Serialises a model to tfjs artifacts in memory (through `model.save` and
 * `tf.io.withSaveHandler`): `modelTopology`, `format`, `generatedBy`, `convertedBy`,
 * `weightSpecs` and `weightData` as one `ArrayBuffer`, plus `userDefinedMetadata` and
 * `trainingConfig` when the model has them. Only the model's weights, not optimizer state.
 *
 * @throws KwsError `INVALID_ARGUMENT` if `model` is not a tfjs-layers model.
 */
export async function modelToArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  if (!isRecord(model) || typeof (model as { save?: unknown }).save !== 'function') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'model must be a tfjs-layers LayersModel (tfl.sequential or tfl.model)',
    );
  }
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (captured === undefined) throw new KwsError('MODEL_INVALID', 'model.save produced no artifacts');
  const { data } = checkArtifacts(captured, failWith('MODEL_INVALID', 'modelToArtifacts'));
  return { ...captured, weightData: data };
}

async function buildModel(
  artifacts: tf.io.ModelArtifacts,
  strict: boolean,
  source: string,
  code: KwsErrorCode,
): Promise<tfl.LayersModel> {
  // kws-kit's own layer classes must be known before tfjs rebuilds a topology that uses them.
  registerKwsLayers();
  try {
    return await tfl.loadLayersModel({ load: async () => artifacts }, { strict });
  } catch (e) {
    const message = errorText(e);
    // tfjs says "Unknown layer: X" (or initializer, activation, …) for a class never registered:
    // the file is fine, the program is missing a registration.
    if (/^Unknown [a-z]+: /i.test(message)) {
      throw new KwsError(
        'MODEL_INVALID',
        `${source}: ${message.split('.')[0]}; register custom layer classes (e.g. the kws-kit layers) before loading`,
      );
    }
    throw new KwsError(code, `${source}: tfjs-layers cannot build the model it describes: ${message}`);
  }
}

function loadOptions(options: LoadModelOptions | undefined): boolean {
  const opts = checkOptions('options', options);
  return checkBoolean('strict', opts.strict ?? true);
}

/**
 * Builds a `tfl.LayersModel` from in-memory artifacts (the inverse of {@link modelToArtifacts}),
 * after checking that `weightData` has exactly the bytes `weightSpecs` describe. Quantized specs
 * are dequantized to float32 by tfjs-core.
 *
 * @throws KwsError `INVALID_ARGUMENT` for malformed artifacts or a data/spec size mismatch,
 *   `MODEL_INVALID` for an unregistered layer class or a graph model.
 */
export async function modelFromArtifacts(
  artifacts: tf.io.ModelArtifacts,
  options?: LoadModelOptions,
): Promise<tfl.LayersModel> {
  const strict = loadOptions(options);
  const fail: Fail = failWith('INVALID_ARGUMENT', 'modelFromArtifacts');
  const { topology, specs, data } = checkArtifacts(artifacts, fail);
  return buildModel(
    { ...artifacts, modelTopology: topology, weightSpecs: specs, weightData: data },
    strict,
    'modelFromArtifacts',
    'INVALID_ARGUMENT',
  );
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

type Fs = NodeFileSystem['fs'];
type PathModule = NodeFileSystem['path'];

function errno(e: unknown): string | undefined {
  return isRecord(e) && typeof e.code === 'string' ? e.code : undefined;
}

function checkLocation(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', `${name} must be a non-empty path string; got ${typeof value}`);
  }
  return value;
}

function resolveShardBytes(options: SaveModelOptions | undefined): number {
  const opts = checkOptions('options', options);
  return checkInt('shardBytes', opts.shardBytes ?? DEFAULT_SHARD_BYTES, 1);
}

/** Shard file name as tfjs-converter writes it: group1-shard1of3.bin (1-based). */
function shardName(index: number, count: number): string {
  return `group1-shard${index + 1}of${count}.bin`;
}

function modelJsonFor(
  artifacts: tf.io.ModelArtifacts,
  manifest: tf.io.WeightsManifestConfig,
): tf.io.ModelJSON {
  // Same keys and order as tfjs-core's own model.json writer.
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: manifest,
  };
  if (artifacts.signature != null) json.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) json.initializerSignature = artifacts.initializerSignature;
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  return json;
}

async function writeDurably(fs: Fs, file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Shard paths named in the model.json already in `dir`, if any (for removing stale shards). */
async function previousShards(fs: Fs, file: string): Promise<string[]> {
  try {
    const json: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    if (!isRecord(json) || !Array.isArray(json.weightsManifest)) return [];
    return json.weightsManifest.flatMap((g: unknown) =>
      isRecord(g) && Array.isArray(g.paths) ? g.paths.filter((p): p is string => typeof p === 'string') : [],
    );
  } catch {
    return [];
  }
}

async function makeDir(fs: Fs, dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    const code = errno(e);
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new KwsError('INVALID_ARGUMENT', `dir ${dir} is not a folder (a file is in the way)`);
    }
    throw e;
  }
}

/**
 * Writes artifacts to `dir` as `model.json` plus `group1-shard{i}of{n}.bin` shards, in the
 * format tfjs-converter writes and `tf.loadLayersModel(url)` reads. `dir` is created if missing.
 * The weight specs are written as given, so specs with a `quantization` field (and weight data
 * stored in that dtype) give a quantized model that tfjs dequantizes on load.
 *
 * Crash safety: shards and model.json are first written (and fsynced) into a temporary folder
 * inside `dir`; then an existing model.json is removed, the shards are renamed into place, and
 * model.json is renamed last. A crash at any point leaves either the old model, no model.json,
 * or the complete new model, never a model.json naming missing or partial shards. Shards that the
 * replaced model.json named and the new one does not are deleted afterwards.
 *
 * @param artifacts `modelTopology` (a JSON object), `weightSpecs`, `weightData` (ArrayBuffer, array
 *   of ArrayBuffers or typed array) whose size must match the specs; other model.json fields
 *   (`format`, `generatedBy`, `convertedBy`, `userDefinedMetadata`, `trainingConfig`, …) are kept.
 * @throws KwsError `INVALID_ARGUMENT` for bad arguments, specs that do not match the data, or a
 *   `dir` that is a file. File-system failures (no permission, disk full) propagate as Node's own
 *   errors (with `code` such as `EACCES`), after the temporary folder is removed.
 */
export async function saveArtifacts(
  artifacts: tf.io.ModelArtifacts,
  dir: string,
  options?: SaveModelOptions,
): Promise<SavedModelInfo> {
  const shardBytes = resolveShardBytes(options);
  checkLocation('dir', dir);
  const { specs, data } = checkArtifacts(artifacts, failWith('INVALID_ARGUMENT', 'saveArtifacts'));
  const { fs, path } = await nodeFileSystem({
    caller: 'saveModel / saveArtifacts',
    alternative: 'modelToArtifacts (and store the artifacts yourself)',
  });
  const root = path.resolve(dir);

  const count = Math.ceil(data.byteLength / shardBytes);
  const shards = Array.from({ length: count }, (_, i) => ({
    name: shardName(i, count),
    bytes: new Uint8Array(data, i * shardBytes, Math.min(shardBytes, data.byteLength - i * shardBytes)),
  }));
  const manifest = [{ paths: shards.map((s) => s.name), weights: specs }];
  const text = JSON.stringify(modelJsonFor(artifacts, manifest));
  const jsonBytes = new TextEncoder().encode(text);

  await makeDir(fs, root);
  const finalJson = path.join(root, MODEL_JSON);
  const stale = await previousShards(fs, finalJson);
  const tmp = await fs.mkdtemp(path.join(root, '.kws-save-'));
  try {
    for (const s of shards) await writeDurably(fs, path.join(tmp, s.name), s.bytes);
    await writeDurably(fs, path.join(tmp, MODEL_JSON), jsonBytes);
    await fs.rm(finalJson, { force: true });
    for (const s of shards) await fs.rename(path.join(tmp, s.name), path.join(root, s.name));
    await fs.rename(path.join(tmp, MODEL_JSON), finalJson);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  await syncDir(fs, root);
  await removeStale(fs, path, root, stale, new Set(shards.map((s) => s.name)));

  const shardInfo = shards.map((s) => ({ path: path.join(root, s.name), bytes: s.bytes.byteLength }));
  return {
    dir: root,
    modelJson: { path: finalJson, bytes: jsonBytes.byteLength },
    shards: shardInfo,
    weightBytes: data.byteLength,
    totalBytes: jsonBytes.byteLength + data.byteLength,
  };
}

async function syncDir(fs: Fs, dir: string): Promise<void> {
  // Makes the renames durable on POSIX; some platforms cannot open a folder, which is harmless.
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

async function removeStale(
  fs: Fs,
  path: PathModule,
  root: string,
  previous: readonly string[],
  current: ReadonlySet<string>,
): Promise<void> {
  for (const p of previous) {
    // Only plain file names inside the folder: a manifest could name anything.
    if (current.has(p) || p !== path.basename(p) || p === MODEL_JSON || p.startsWith('.')) continue;
    await fs.rm(path.join(root, p), { force: true }).catch(() => undefined);
  }
}

/**
 * Saves a tfjs-layers model to `dir` (created if missing) as `model.json` plus weight shards
 * `group1-shard{i}of{n}.bin` of at most `shardBytes` bytes: the files tfjs-converter writes, which
 * `tf.loadLayersModel('https://…/model.json')` loads in a browser and {@link loadModel} loads in
 * Node. See {@link saveArtifacts} for the crash-safe write order.
 *
 * @example
 * ```ts
 * const info = await saveModel(model, 'out/kws');
 * console.log(info.shards.length, info.totalBytes);
 * const again = await loadModel('out/kws');
 * ```
 * @throws KwsError `INVALID_ARGUMENT` for a non-model, a bad `shardBytes` or a `dir` that is a file.
 */
export async function saveModel(
  model: tfl.LayersModel,
  dir: string,
  options?: SaveModelOptions,
): Promise<SavedModelInfo> {
  // Checked before serialising so a bad argument fails fast.
  resolveShardBytes(options);
  checkLocation('dir', dir);
  const artifacts = await modelToArtifacts(model);
  if (options?.metadata !== undefined) {
    if (options.metadata === null || typeof options.metadata !== 'object') {
      throw new KwsError('INVALID_ARGUMENT', 'metadata must be a JSON-serialisable object');
    }
    artifacts.userDefinedMetadata = {
      ...(artifacts.userDefinedMetadata ?? {}),
      ...(options.metadata as Record<string, object>),
    };
  }
  return saveArtifacts(artifacts, dir, options);
}

/** Resolves a folder or a model.json path to the model.json file; NOT_FOUND if absent. */
async function resolveModelJson(fs: Fs, path: PathModule, location: string): Promise<string> {
  const abs = path.resolve(location);
  let isDir: boolean;
  try {
    isDir = (await fs.stat(abs)).isDirectory();
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') {
      throw new KwsError('NOT_FOUND', `no model folder or model.json at ${abs}`);
    }
    throw e;
  }
  if (!isDir) return abs;
  const file = path.join(abs, MODEL_JSON);
  try {
    if ((await fs.stat(file)).isFile()) return file;
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
  throw new KwsError('NOT_FOUND', `folder ${abs} has no ${MODEL_JSON}`);
}

async function readFileOrNotFound(fs: Fs, file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new KwsError('NOT_FOUND', `${what} ${file} does not exist (or is not a file)`);
    }
    throw e;
  }
}

function parseModelJson(bytes: Uint8Array, fail: Fail): Record<string, unknown> {
  if (bytes.byteLength === 0) fail('the file is empty');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return fail(`not valid JSON (truncated or edited?): ${errorText(e)}`);
  }
  if (!isRecord(json)) fail('the JSON is not an object');
  return json;
}

/** A manifest path must stay inside the model folder. */
function checkShardPath(p: unknown, path: PathModule, fail: Fail): string {
  if (typeof p !== 'string' || p.length === 0)
    fail('weightsManifest has a path that is not a non-empty string');
  if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) {
    fail(`weightsManifest path ${JSON.stringify(p)} points outside the model folder`);
  }
  return p;
}

/**
 * Reads a saved model's artifacts: model.json (given as the file or its folder) and the weight
 * shards its manifest names, concatenated in manifest order into one `ArrayBuffer`. Every group's
 * shards must together hold exactly the bytes its weight entries need (shape product × 4 for
 * float32/int32, 1 for bool; × 1/2/2 for uint8/uint16/float16-quantized entries).
 *
 * @returns artifacts with `modelTopology`, `weightSpecs` (all groups, in order), `weightData`, and
 *   `format`, `generatedBy`, `convertedBy`, `userDefinedMetadata`, `trainingConfig`, … as stored.
 * @throws KwsError `NOT_FOUND` for a missing folder, model.json or shard; `MODEL_FILE_CORRUPT`
 *   (message names the file and the fault) for invalid JSON, missing keys, an unknown dtype, a
 *   path leaving the folder, or shards shorter or longer than the manifest says; `MODEL_INVALID`
 *   for a graph model.
 */
export async function loadArtifacts(location: string): Promise<tf.io.ModelArtifacts> {
  return (await readArtifacts(location)).artifacts;
}

async function readArtifacts(location: string): Promise<{ file: string; artifacts: tf.io.ModelArtifacts }> {
  checkLocation('location', location);
  const { fs, path } = await nodeFileSystem({
    caller: 'loadModel / loadArtifacts',
    alternative: 'modelFromArtifacts, or tfl.loadLayersModel with the URL of model.json',
  });
  const file = await resolveModelJson(fs, path, location);
  const fail: Fail = failWith('MODEL_FILE_CORRUPT', file);
  const json = parseModelJson(await readFileOrNotFound(fs, file, MODEL_JSON), fail);
  const topology = checkTopology(json.modelTopology, json.format, fail);
  const groups = json.weightsManifest;
  if (!Array.isArray(groups)) fail('"weightsManifest" is missing or not an array');

  const dir = path.dirname(file);
  const names = new Set<string>();
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const [g, group] of groups.entries()) {
    if (!isRecord(group)) fail(`weightsManifest[${g}] is not an object`);
    if (!Array.isArray(group.paths)) fail(`weightsManifest[${g}] has no "paths" array`);
    const paths = group.paths.map((p) => checkShardPath(p, path, fail));
    const entries = checkWeightEntries(group.weights, `weightsManifest[${g}].weights`, names, fail);
    let have = 0;
    for (const p of paths) {
      const bytes = await readFileOrNotFound(fs, path.join(dir, p), 'weight shard');
      parts.push(bytes);
      have += bytes.byteLength;
    }
    if (have !== entries.bytes) {
      const fault = have < entries.bytes ? 'a truncated or missing part' : 'extra bytes';
      fail(
        `weight shards ${paths.join(', ') || '(none)'} of group ${g + 1} hold ${have} bytes but its ${
          entries.specs.length
        } weights need ${entries.bytes} bytes (${fault})`,
      );
    }
    specs.push(...entries.specs);
  }
  const { modelTopology: _t, weightsManifest: _w, ...rest } = json;
  return {
    file,
    artifacts: { ...rest, modelTopology: topology, weightSpecs: specs, weightData: toArrayBuffer(parts) },
  };
}

/**
 * Loads a model saved by {@link saveModel}, tfjs-converter or tfjs's own `model.save` (any
 * `layers-model` model.json with its shards) from a folder or a model.json path, through a
 * custom IOHandler (no `file://` handler exists without tfjs-node). Quantized weights are
 * dequantized to float32. Custom layer classes must be registered before loading.
 *
 * Every size and format check runs before tfjs sees the file, so those errors allocate nothing.
 * A file that passes them but that tfjs-layers still rejects (a topology it cannot build, or
 * weight names/shapes that do not fit the layers) may leave the variables and decoded weights of
 * the half-built model allocated: tfjs-layers returns no handle to free them.
 *
 * @throws KwsError `NOT_FOUND` for a missing folder, model.json or shard; `MODEL_FILE_CORRUPT`
 *   for a truncated, malformed or inconsistent file (see {@link loadArtifacts}) or a topology
 *   tfjs-layers cannot build; `MODEL_INVALID` for an unregistered layer class or a graph model.
 */
export async function loadModel(location: string, options?: LoadModelOptions): Promise<tfl.LayersModel> {
  const strict = loadOptions(options);
  const { file, artifacts } = await readArtifacts(location);
  return buildModel(artifacts, strict, file, 'MODEL_FILE_CORRUPT');
}
