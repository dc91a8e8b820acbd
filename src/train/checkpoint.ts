/**
 * Training checkpoints on disk, so that an interrupted run can resume where it stopped.
 *
 * Layout of a checkpoint folder (`<checkpointDir>/last` after every epoch, `<checkpointDir>/best`
 * whenever validation accuracy improves):
 *
 * - `model.json` + `group1-shard*.bin`: the model in the standard tfjs format (`saveModel`),
 *   every weight including batch-norm moving statistics;
 * - `optimizer.json` + `optimizer.bin` (`last` only): the optimizer state as
 *   `TrainingOptimizer.getWeights()` returns it (`iter`, then the slots), in tfjs's weight
 *   encoding;
 * - `state.json`: {@link CheckpointState} (epoch, step, generator positions, best accuracy,
 *   history).
 *
 * A folder is written completely under a temporary name and then renamed into place, so a crash
 * leaves either the previous checkpoint or the new one, never a mix of the two.
 *
 * Node only (file system); `fs` is loaded when a function runs, not at module load, so browser
 * bundles that never call these functions build.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { loadArtifacts, saveModel } from '../models/index.js';
import { type NodeFileSystem, nodeFileSystem } from '../node-builtins.js';
import type { RngState } from '../random.js';
import type { NamedTensor } from './optimizer.js';

/** Sub-folder of the checkpoint written after every epoch. */
export const LAST_CHECKPOINT = 'last';
/** Sub-folder holding the weights with the best validation accuracy so far. */
export const BEST_CHECKPOINT = 'best';
/** Name of the state file in a checkpoint folder. */
export const STATE_JSON = 'state.json';
const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const STATE_VERSION = 1;

/** What must match between the run that wrote a checkpoint and the run that resumes it. */
export interface RunFingerprint {
  optimizer: string;
  batchSize: number;
  trainExamples: number;
  labels: string[];
  seed: number;
}

/** Contents of `state.json`. */
export interface CheckpointState<H = unknown> {
  /** Format version (1). */
  version: number;
  /** Epochs completed. */
  epoch: number;
  /** Optimisation steps completed. */
  step: number;
  /** Generator positions: the augmentation stream and each seeded layer's, by layer name. */
  rng: { augment: RngState; layers: Record<string, RngState> };
  /** Best validation accuracy so far and its epoch (null without validation). */
  bestAccuracy: number | null;
  bestEpoch: number | null;
  /** Per-epoch statistics of every completed epoch. */
  history: H[];
  fingerprint: RunFingerprint;
}

/** A model's weights copied out of tfjs (by weight name), to restore later. */
export interface WeightSnapshot {
  names: string[];
  shapes: number[][];
  dtypes: tf.DataType[];
  values: (Float32Array | Int32Array | Uint8Array)[];
}

type Fs = NodeFileSystem['fs'];
type PathModule = NodeFileSystem['path'];

function nodeModules(caller: string): Promise<NodeFileSystem> {
  return nodeFileSystem({ caller, alternative: 'train without checkpointDir' });
}

async function exists(fs: Fs, p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Copies every weight of `model` (trainable or not) into plain arrays. */
export function snapshotWeights(model: tfl.LayersModel): WeightSnapshot {
  const snap: WeightSnapshot = { names: [], shapes: [], dtypes: [], values: [] };
  for (const w of model.weights) {
    snap.names.push(w.originalName);
    snap.shapes.push([...(w.shape as number[])]);
    snap.dtypes.push(w.dtype);
    snap.values.push((w.read().dataSync() as Float32Array | Int32Array | Uint8Array).slice());
  }
  return snap;
}

/**
 * Loads named weights into `model`. By name when every name matches; otherwise by position when
 * the count and every shape match in order (tfjs-layers numbers auto-named layers per process, so
 * the same architecture built twice in one process has different weight names). Does not
 * dispose `weights`.
 */
function loadNamedWeights(model: tfl.LayersModel, weights: tf.NamedTensorMap, source: string): void {
  const own = model.weights;
  const names = Object.keys(weights);
  const byName = own.length === names.length && own.every((w) => weights[w.originalName] !== undefined);
  const fail = (why: string): never => {
    throw new KwsError('INVALID_ARGUMENT', `${source} does not fit this model: ${why}`);
  };
  if (!byName) {
    if (names.length !== own.length) fail(`it has ${names.length} weights, the model ${own.length}`);
    own.forEach((w, i) => {
      const t = weights[names[i] as string] as tf.Tensor;
      if (!tf.util.arraysEqual(t.shape, w.shape as number[])) {
        fail(`weight ${i} (${names[i]}) is [${t.shape}], the model's ${w.originalName} is [${w.shape}]`);
      }
    });
    model.setWeights(names.map((n) => weights[n] as tf.Tensor));
    return;
  }
  try {
    model.loadWeights(weights, true);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
}

/** Writes a {@link WeightSnapshot} back into `model` (same architecture). */
export function restoreWeights(model: tfl.LayersModel, snap: WeightSnapshot): void {
  const map: tf.NamedTensorMap = {};
  snap.names.forEach((name, i) => {
    map[name] = tf.tensor(snap.values[i] as Float32Array, snap.shapes[i], snap.dtypes[i]);
  });
  try {
    loadNamedWeights(model, map, 'the weight snapshot');
  } finally {
    tf.dispose(Object.values(map));
  }
}

async function writeOptimizer(fs: Fs, dir: string, path: PathModule, weights: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(weights);
  await fs.writeFile(path.join(dir, OPTIMIZER_BIN), new Uint8Array(data));
  await fs.writeFile(
    path.join(dir, OPTIMIZER_JSON),
    JSON.stringify({ format: 'kws-kit-optimizer', weightSpecs: specs }),
  );
}

/**
 * Writes one checkpoint folder atomically: the model, optionally the optimizer state, and
 * `state` as `state.json`. An existing folder is replaced.
 */
export async function writeCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  optimizerWeights: NamedTensor[] | null,
  state: object,
): Promise<void> {
  const { fs, path } = await nodeModules('writeCheckpoint');
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  await fs.mkdir(parent, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(parent, `.${path.basename(target)}-tmp-`));
  const old = `${target}.old`;
  try {
    await saveModel(model, tmp);
    if (optimizerWeights !== null) await writeOptimizer(fs, tmp, path, optimizerWeights);
    await fs.writeFile(path.join(tmp, STATE_JSON), JSON.stringify(state));
    await fs.rm(old, { recursive: true, force: true });
    if (await exists(fs, target)) await fs.rename(target, old);
    await fs.rename(tmp, target);
    await fs.rm(old, { recursive: true, force: true });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** A checkpoint folder read back. */
export interface LoadedCheckpoint<H = unknown> {
  /** The folder actually read (`<dir>` or, after a crash mid-swap, `<dir>.old`). */
  dir: string;
  state: CheckpointState<H>;
  /** Optimizer state (caller disposes the tensors), or null when the folder has none. */
  optimizer: NamedTensor[] | null;
}

function corrupt(file: string, why: string): never {
  throw new KwsError('MODEL_FILE_CORRUPT', `${file}: ${why}`);
}

function checkState(file: string, value: unknown): CheckpointState {
  const s = value as Partial<CheckpointState>;
  if (typeof value !== 'object' || value === null) corrupt(file, 'not a JSON object');
  if (s.version !== STATE_VERSION)
    corrupt(file, `unsupported version ${String(s.version)}; expected ${STATE_VERSION}`);
  if (!Number.isInteger(s.epoch) || !Number.isInteger(s.step) || (s.epoch as number) < 0) {
    corrupt(file, 'epoch and step must be integers >= 0');
  }
  if (!Array.isArray(s.history) || s.history.length !== s.epoch) {
    corrupt(file, 'history must list one entry per completed epoch');
  }
  if (typeof s.rng !== 'object' || s.rng === null || !Array.isArray(s.rng.augment)) {
    corrupt(file, 'rng.augment must hold a generator state');
  }
  if (typeof s.fingerprint !== 'object' || s.fingerprint === null) corrupt(file, 'missing fingerprint');
  return s as CheckpointState;
}

/**
 * Reads the checkpoint in `dir` (falling back to `<dir>.old` when a crash interrupted the final
 * rename), loads its weights into `model`, and returns its state and optimizer state.
 *
 * @returns null when there is no checkpoint at `dir`.
 * @throws {@link KwsError} `MODEL_FILE_CORRUPT` for unreadable files, `INVALID_ARGUMENT` when
 *   the weights do not fit `model`.
 */
export async function readCheckpoint<H = unknown>(
  dir: string,
  model: tfl.LayersModel,
): Promise<LoadedCheckpoint<H> | null> {
  const { fs, path } = await nodeModules('readCheckpoint');
  let folder = path.resolve(dir);
  if (!(await exists(fs, path.join(folder, STATE_JSON)))) {
    folder = `${folder}.old`;
    if (!(await exists(fs, path.join(folder, STATE_JSON)))) return null;
  }
  const stateFile = path.join(folder, STATE_JSON);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(stateFile, 'utf8'));
  } catch (e) {
    corrupt(stateFile, `cannot parse (${e instanceof Error ? e.message : String(e)})`);
  }
  const state = checkState(stateFile, parsed) as CheckpointState<H>;
  const artifacts = await loadArtifacts(folder);
  const weights = tf.io.decodeWeights(
    artifacts.weightData as tf.io.WeightData,
    artifacts.weightSpecs as tf.io.WeightsManifestEntry[],
  );
  try {
    loadNamedWeights(model, weights, `the checkpoint in ${folder}`);
  } finally {
    tf.dispose(Object.values(weights));
  }
  let optimizer: NamedTensor[] | null = null;
  const optJson = path.join(folder, OPTIMIZER_JSON);
  if (await exists(fs, optJson)) {
    let specs: tf.io.WeightsManifestEntry[];
    try {
      specs = (
        JSON.parse(await fs.readFile(optJson, 'utf8')) as { weightSpecs: tf.io.WeightsManifestEntry[] }
      ).weightSpecs;
    } catch (e) {
      corrupt(optJson, `cannot parse (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!Array.isArray(specs)) corrupt(optJson, 'weightSpecs must be an array');
    const bytes = await fs.readFile(path.join(folder, OPTIMIZER_BIN));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    let map: tf.NamedTensorMap;
    try {
      map = tf.io.decodeWeights(buffer, specs);
    } catch (e) {
      corrupt(path.join(folder, OPTIMIZER_BIN), e instanceof Error ? e.message : String(e));
    }
    // decodeWeights returns a map; the optimizer needs its entries in the saved order.
    optimizer = specs.map((s) => ({ name: s.name, tensor: map[s.name] as tf.Tensor }));
  }
  return { dir: folder, state, optimizer };
}

/**
 * Reads the weights of a checkpoint folder as a {@link WeightSnapshot} (in file order, checked
 * against a model only when restored), or null if the folder has no model.
 */
export async function readWeightSnapshot(dir: string): Promise<WeightSnapshot | null> {
  const { fs, path } = await nodeModules('readWeightSnapshot');
  const folder = path.resolve(dir);
  if (!(await exists(fs, path.join(folder, 'model.json')))) return null;
  const artifacts = await loadArtifacts(folder);
  const weights = tf.io.decodeWeights(
    artifacts.weightData as tf.io.WeightData,
    artifacts.weightSpecs as tf.io.WeightsManifestEntry[],
  );
  try {
    const snap: WeightSnapshot = { names: [], shapes: [], dtypes: [], values: [] };
    for (const [name, t] of Object.entries(weights)) {
      snap.names.push(name);
      snap.shapes.push([...t.shape]);
      snap.dtypes.push(t.dtype);
      snap.values.push((t.dataSync() as Float32Array).slice());
    }
    return snap;
  } finally {
    tf.dispose(Object.values(weights));
  }
}
