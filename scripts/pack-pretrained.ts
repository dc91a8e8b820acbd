/**
 * Packs a trained model as one of kws-kit's pretrained models.
 *
 *   npx tsx scripts/pack-pretrained.ts --name bcresnet1-gsc12 --model <checkpoint dir>
 *     [--results <train-gsc results json>] [--data <speech-commands folder>] [--backend wasm|cpu]
 *     [--arch '{"family":"bc-resnet","options":{…}}'] [--recipe '{"learningRate":0.1,…}']
 *     [--accuracy 0.95] [--root <repo root>]
 *
 * Writes, for model `<name>`:
 * - `pretrained/<name>/model.json` + `group1-shard1of1.bin`: the standard tfjs files (kws-kit
 *   metadata with labels and front end inside), loadable from any URL with `tf.loadLayersModel`;
 * - `pretrained/<name>/card.json` and `MODEL_CARD.md`: the model card (data licence and
 *   attribution, recipe, accuracy, params, MACs, bytes);
 * - `src/models/pretrained/<name>.ts`: the same model.json text and shard bytes (base64) as a
 *   module that `loadPretrained` imports lazily;
 * and regenerates `src/models/pretrained/catalog.ts` from every `pretrained/* /card.json`.
 *
 * Figures come from the results JSON that `scripts/train-gsc.ts --out` writes (or a setting's
 * `result.json` of scripts/compress-gsc.ts). Without
 * `--results`, they come from the checkpoint itself (`state.json` of the folder and of its sibling
 * `last/`), and the card says so. With `--data`, the model is re-evaluated on the validation split
 * and the card records that accuracy and the per-class figures. The factory options (inferred from
 * the topology, or `--arch`) are checked by rebuilding the model with them and comparing outputs.
 *
 * `packPretrained` and `writeCatalog` are the core, callable with any output folders (tests).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadSpeechCommands, type Split } from '../src/data/index.js';
import { DEFAULT_FRONT_END, type FrontEndConfig } from '../src/features/index.js';
import {
  bcResNet,
  crnn,
  kwsMetadata,
  loadArtifacts,
  loadModel,
  MODEL_JSON,
  modelFromArtifacts,
  profile,
  readKwsMetadata,
  saveModel,
} from '../src/models/index.js';
import { encodeBase64 } from '../src/models/pretrained/base64.js';
import { topologyClassNames } from '../src/models/pretrained/embedded-model.js';
import {
  GSC_DEV_DATA_NAME,
  type ModelCard,
  type ModelCardArchitecture,
  type ModelCardMetrics,
  type PretrainedFamily,
  renderModelCard,
  SPEECH_COMMANDS_ATTRIBUTION,
  SPEECH_COMMANDS_LICENSE,
  SPEECH_COMMANDS_LICENSE_URL,
  summarizeWeightStorage,
} from '../src/models/pretrained/model-card.js';
import { registerQatLayers, registerQuantizeLayers } from '../src/quantize/index.js';
import { createRng } from '../src/random.js';
import { evaluate } from '../src/train/index.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** File names in the module folder that a model name must not take. */
const RESERVED = new Set(['index', 'catalog', 'base64', 'model-card', 'load-pretrained', 'embedded-model']);
const NAME_PATTERN = /^[a-z0-9]+(?:[a-z0-9-]*[a-z0-9])?$/;
const CARD_JSON = 'card.json';
const MODEL_CARD_MD = 'MODEL_CARD.md';
const REFERENCES: Record<PretrainedFamily, string> = {
  'bc-resnet': 'Kim et al., "Broadcasted Residual Learning for Efficient Keyword Spotting", Interspeech 2021',
  crnn: 'Arik et al., "Convolutional Recurrent Neural Networks for Small-Footprint Keyword Spotting", Interspeech 2017, with attention pooling',
};

/** Where {@link packPretrained} and {@link writeCatalog} write. */
export interface PackTargets {
  /** Folder of the plain files: `<pretrainedDir>/<name>/model.json`, …. */
  pretrainedDir: string;
  /** Folder of the generated modules and `catalog.ts` (`src/models/pretrained` in the repo). */
  moduleDir: string;
}

/** What {@link packPretrained} needs to know about a model. */
export interface PackInput {
  /** Registry name: lower-case letters, digits and inner dashes, e.g. `'bcresnet1-gsc12'`. */
  name: string;
  /**
   * The trained model (not disposed), saved as float32 with kws-kit metadata (labels, front end,
   * licence). Give this or `exported`.
   */
  model?: tfl.LayersModel;
  /**
   * Folder of a model already written in the tfjs format (`saveModel`, or `exportQuantized` with
   * float16 / uint8 / uint16 weight entries): its `model.json` and the shards its manifest names
   * are shipped byte for byte, so a quantized model keeps its size. Give this or `model`.
   */
  exported?: string;
  /** Class names in output order. */
  labels: string[];
  /** Front end of the training features. Default `DEFAULT_FRONT_END`. */
  frontEnd?: FrontEndConfig;
  /** Family and factory options; checked by rebuilding the model and comparing outputs. */
  architecture: PackArchitecture;
  recipe: Record<string, string | number | boolean>;
  /** Clips per split of the training data (gsc-dev). */
  clips: { train?: number; validation?: number };
  metrics: ModelCardMetrics;
  /** The command that packed the model, recorded in the card and the generated headers. */
  generatedBy: string;
  /** The command written in the generated modules' headers. Default `generatedBy`. */
  moduleGeneratedBy?: string;
  /** Default: the version in the repository's package.json. */
  kwsKitVersion?: string;
  /** One-sentence task; default from the labels. */
  task?: string;
}

/** The card's architecture as given to the packer (the reference and fake-quant count are filled in). */
export type PackArchitecture = Omit<ModelCardArchitecture, 'reference' | 'activationFakeQuant'>;

/** What {@link packPretrained} wrote. */
export interface PackResult {
  card: ModelCard;
  /** `<pretrainedDir>/<name>`. */
  modelDir: string;
  /** `<moduleDir>/<name>.ts`. */
  modulePath: string;
  /** Every file written. */
  files: string[];
}

function checkName(name: string): void {
  if (!NAME_PATTERN.test(name) || RESERVED.has(name)) {
    throw new Error(
      `model name "${name}" is not allowed: use lower-case letters, digits and inner dashes, not ${[...RESERVED].join(', ')}`,
    );
  }
}

/** A single-quoted TypeScript string literal of `text` (JSON text has no raw newlines). */
function stringLiteral(text: string): string {
  const body = text
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `'${body}'`;
}

function header(generatedBy: string, what: string): string {
  return [
    `// Generated by \`${generatedBy}\`.`,
    `// Do not edit by hand: re-run scripts/pack-pretrained.ts. ${what}`,
    '',
  ].join('\n');
}

function repoVersion(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function inputShapeOf(model: tfl.LayersModel): [number, number] {
  const shape = model.inputs[0]?.shape;
  const [frames, mels] = [shape?.[1], shape?.[2]];
  if (shape === undefined || typeof frames !== 'number' || typeof mels !== 'number') {
    throw new Error(`model input shape ${JSON.stringify(shape)} is not [batch, frames, mels(, 1)]`);
  }
  return [frames, mels];
}

/** Layers of `kws-kit/quantize` that simulate int8 activations; not part of any factory's graph. */
const FAKE_QUANT_CLASSES = new Set(['FakeQuant', 'MovingFakeQuant']);

function fakeQuantLayers(model: tfl.LayersModel): number {
  return model.layers.filter((l) => FAKE_QUANT_CLASSES.has(l.getClassName())).length;
}

/**
 * The family's factory model for `options`. A CRNN's `hiddenSizes` (one GRU width per layer, as
 * `pruneModel` leaves them) is the factory's graph with those widths: the topology of
 * `crnn({ …options, hiddenSize: hiddenSizes[0] })` with each `crnn_gru_<i>`'s units replaced.
 */
function rebuildArchitecture(architecture: PackArchitecture): tfl.LayersModel {
  const { hiddenSizes, ...options } = architecture.options as Record<string, unknown> & {
    hiddenSizes?: number[];
  };
  if (architecture.family === 'bc-resnet') return bcResNet(options as Parameters<typeof bcResNet>[0]);
  if (hiddenSizes === undefined) return crnn(options as Parameters<typeof crnn>[0]);
  const base = crnn({ ...(options as Parameters<typeof crnn>[0]), hiddenSize: hiddenSizes[0] as number });
  let config: { layers: { name: string; config: Record<string, unknown> }[] };
  try {
    config = structuredClone(base.getConfig()) as unknown as typeof config;
  } finally {
    base.dispose();
  }
  for (const layer of config.layers) {
    const m = /^crnn_gru_(\d+)$/.exec(layer.name);
    if (m === null) continue;
    const units = hiddenSizes[Number(m[1]) - 1];
    if (units === undefined) throw new Error(`hiddenSizes has no width for ${layer.name}`);
    const inner = layer.config.layer as { config: Record<string, unknown> } | undefined;
    (inner?.config ?? layer.config).units = units;
  }
  return tfl.LayersModel.fromConfig(
    tfl.LayersModel,
    config as unknown as tf.serialization.ConfigDict,
  ) as tfl.LayersModel;
}

/**
 * Builds the family's factory model with `options`, copies the trained weights into it, and
 * throws unless both give bit-identical logits on a seeded random batch: the card's factory
 * options then provably describe the model. A model with activation fake-quantization layers
 * (int8 simulation) is compared on its weights' shapes only, since the factory graph has no such
 * layers.
 */
export function verifyArchitecture(model: tfl.LayersModel, architecture: PackArchitecture): void {
  const options = { ...architecture.options };
  const rebuilt = rebuildArchitecture(architecture);
  try {
    const ours = model.getWeights();
    const theirs = rebuilt.getWeights();
    const same =
      ours.length === theirs.length &&
      ours.every((w, i) => tf.util.arraysEqual(w.shape, theirs[i]?.shape ?? []));
    if (!same) {
      throw new Error(
        `${architecture.family}(${JSON.stringify(options)}) has other weights than the model (${theirs.length} vs ${ours.length} tensors or different shapes); pass --arch`,
      );
    }
    if (fakeQuantLayers(model) > 0) return;
    rebuilt.setWeights(ours);
    const shape = (model.inputs[0]?.shape ?? []).slice(1) as number[];
    const rng = createRng(7);
    const size = shape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: 2 * size }, () => rng.normal() * 3 - 8);
    const [a, b] = tf.tidy(() => {
      const input = tf.tensor(x, [2, ...shape]);
      return [
        (model.predict(input) as tf.Tensor).dataSync(),
        (rebuilt.predict(input) as tf.Tensor).dataSync(),
      ];
    });
    if (a === undefined || b === undefined || a.length !== b.length || a.some((v, i) => v !== b[i])) {
      throw new Error(
        `${architecture.family}(${JSON.stringify(options)}) does not reproduce the model's outputs; pass --arch`,
      );
    }
  } finally {
    rebuilt.dispose();
  }
}

/** A model folder's files as they are on disk. */
export interface PlainModelFiles {
  /** `model.json`, byte for byte. */
  modelJson: Uint8Array;
  /** The shards named by its manifest, in manifest order: file name and bytes. */
  shards: { name: string; bytes: Uint8Array }[];
}

/**
 * Reads `<dir>/model.json` and the shards its weight manifest names (plain file names in the
 * folder only), without changing a byte.
 */
export function readPlainModel(dir: string): PlainModelFiles {
  const jsonPath = join(dir, MODEL_JSON);
  if (!existsSync(jsonPath)) throw new Error(`no ${MODEL_JSON} in ${dir}`);
  const modelJson = new Uint8Array(readFileSync(jsonPath));
  const json = JSON.parse(new TextDecoder().decode(modelJson)) as tf.io.ModelJSON;
  if (!Array.isArray(json.weightsManifest)) throw new Error(`${jsonPath} has no weightsManifest`);
  const shards = json.weightsManifest
    .flatMap((group) => group.paths)
    .map((name) => {
      if (name !== basename(name) || name.startsWith('.') || name === MODEL_JSON) {
        throw new Error(
          `${jsonPath} names the shard "${name}"; only plain file names next to it are shipped`,
        );
      }
      return { name, bytes: new Uint8Array(readFileSync(join(dir, name))) };
    });
  return { modelJson, shards };
}

/** The artifacts of plain files (weights concatenated in manifest order, as one ArrayBuffer). */
export function plainArtifacts(files: PlainModelFiles): tf.io.ModelArtifacts {
  const json = JSON.parse(new TextDecoder().decode(files.modelJson)) as tf.io.ModelJSON;
  const weights = concatBytes(files.shards.map((s) => s.bytes));
  return tf.io.getModelArtifactsForJSONSync(
    json,
    json.weightsManifest.flatMap((g) => g.weights),
    weights.buffer as ArrayBuffer,
  );
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Builds the model of plain files the way `loadPretrained` does: weights dequantized to float32
 * by tfjs, kws-kit layers registered, and the quantization layers too when the topology has them.
 */
export async function loadPlainModel(files: PlainModelFiles): Promise<tfl.LayersModel> {
  const artifacts = plainArtifacts(files);
  if ([...topologyClassNames(artifacts.modelTopology)].some((c) => FAKE_QUANT_CLASSES.has(c))) {
    registerQuantizeLayers();
    registerQatLayers();
  }
  return modelFromArtifacts(artifacts);
}

/**
 * Writes one pretrained model: plain files (`model.json`, shard, `card.json`, `MODEL_CARD.md`)
 * under `<pretrainedDir>/<name>/`, and `<moduleDir>/<name>.ts` embedding the same bytes.
 *
 * From `input.model`, the files are written by `saveModel` (float32, kws-kit metadata with the
 * labels, front end and licence). From `input.exported`, the folder's `model.json` and shards are
 * copied byte for byte (quantized entries stay quantized); the model is then loaded from those
 * bytes as `loadPretrained` will load it, to check its outputs, profile it and verify the
 * architecture. The card records the storage dtypes and the real bytes of the shipped files.
 * Call {@link writeCatalog} afterwards to list it.
 */
export async function packPretrained(input: PackInput, targets: PackTargets): Promise<PackResult> {
  checkName(input.name);
  if ((input.model === undefined) === (input.exported === undefined)) {
    throw new Error('give either model (a LayersModel to save) or exported (a model folder to ship as is)');
  }
  const frontEnd = { ...(input.frontEnd ?? DEFAULT_FRONT_END) } as FrontEndConfig;
  if (input.model !== undefined) {
    const outputs = input.model.outputs[0]?.shape[1];
    if (outputs !== input.labels.length) {
      throw new Error(`the model has ${outputs} outputs but ${input.labels.length} labels were given`);
    }
    verifyArchitecture(input.model, input.architecture);
  }

  const modelDir = join(targets.pretrainedDir, input.name);
  let files: PlainModelFiles;
  if (input.model !== undefined) {
    const info = {
      pretrained: input.name,
      data: GSC_DEV_DATA_NAME,
      license: SPEECH_COMMANDS_LICENSE,
      attribution: SPEECH_COMMANDS_ATTRIBUTION,
    };
    await saveModel(input.model, modelDir, { metadata: kwsMetadata(input.labels, frontEnd, info) });
    files = readPlainModel(modelDir);
  } else {
    files = readPlainModel(input.exported as string);
    if (resolve(input.exported as string) !== resolve(modelDir)) {
      mkdirSync(modelDir, { recursive: true });
      for (const s of files.shards) writeFileSync(join(modelDir, s.name), s.bytes);
      writeFileSync(join(modelDir, MODEL_JSON), files.modelJson);
    }
  }

  const loaded = await loadPlainModel(files);
  let inputShape: [number, number];
  let totals: ReturnType<typeof profile>['total'];
  let activationFakeQuant: number;
  try {
    const outputs = loaded.outputs[0]?.shape[1];
    if (outputs !== input.labels.length) {
      throw new Error(`the model has ${outputs} outputs but ${input.labels.length} labels were given`);
    }
    inputShape = inputShapeOf(loaded);
    verifyArchitecture(loaded, input.architecture);
    totals = profile(loaded).total;
    activationFakeQuant = fakeQuantLayers(loaded);
  } finally {
    loaded.dispose();
  }

  const json = JSON.parse(new TextDecoder().decode(files.modelJson)) as tf.io.ModelJSON;
  const storage = summarizeWeightStorage(json.weightsManifest.flatMap((g) => g.weights));
  const shardPaths = files.shards.map((s) => join(modelDir, s.name));
  const jsonPath = join(modelDir, MODEL_JSON);
  // The card's sizes are those of the shipped files on disk.
  const weightBytes = shardPaths.reduce((n, p) => n + statSync(p).size, 0);
  const modelJsonBytes = statSync(jsonPath).size;

  const card: ModelCard = {
    name: input.name,
    task:
      input.task ??
      `Keyword spotting: classifies 1 s of 16 kHz speech into ${input.labels.length} classes (${input.labels.join(', ')}).`,
    labels: [...input.labels],
    frontEnd,
    inputShape,
    architecture: {
      ...input.architecture,
      reference: REFERENCES[input.architecture.family],
      ...(activationFakeQuant > 0 ? { activationFakeQuant } : {}),
    },
    recipe: { ...input.recipe },
    data: {
      name: GSC_DEV_DATA_NAME,
      clips: { ...input.clips },
      license: SPEECH_COMMANDS_LICENSE,
      licenseUrl: SPEECH_COMMANDS_LICENSE_URL,
      attribution: SPEECH_COMMANDS_ATTRIBUTION,
    },
    metrics: input.metrics,
    profile: {
      params: totals.params,
      trainableParams: totals.trainableParams,
      macs: totals.macs,
      normMacs: totals.normMacs,
      weightFormat: storage.weightFormat,
      weightStorage: storage.weightStorage,
      weightBytes,
      modelJsonBytes,
      bytesOnDisk: weightBytes + modelJsonBytes,
    },
    generatedBy: input.generatedBy,
    kwsKitVersion: input.kwsKitVersion ?? repoVersion(),
  };
  const cardPath = join(modelDir, CARD_JSON);
  const markdownPath = join(modelDir, MODEL_CARD_MD);
  writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
  writeFileSync(markdownPath, renderModelCard(card));

  mkdirSync(targets.moduleDir, { recursive: true });
  const modulePath = join(targets.moduleDir, `${input.name}.ts`);
  const weights = concatBytes(files.shards.map((s) => s.bytes));
  const source = [
    header(input.moduleGeneratedBy ?? input.generatedBy, `Same bytes as pretrained/${input.name}/.`),
    `/** \`pretrained/${input.name}/model.json\`, byte for byte. */`,
    `export const modelJson = ${stringLiteral(new TextDecoder().decode(files.modelJson))};`,
    '',
    `/** The weight shards of \`pretrained/${input.name}/\`, concatenated, base64 (${weights.byteLength} bytes). */`,
    `export const weightsBase64 = ${stringLiteral(encodeBase64(weights))};`,
    '',
  ].join('\n');
  writeFileSync(modulePath, source);
  return {
    card,
    modelDir,
    modulePath,
    files: [jsonPath, ...shardPaths, cardPath, markdownPath, modulePath],
  };
}

/**
 * Re-packs `<pretrainedDir>/<name>/` from its own committed files: the plain `model.json` and
 * shards stay as they are (byte for byte), the card keeps its recorded facts (labels, front end,
 * architecture, recipe, data, metrics, the command that packed it) and gets its profile (storage
 * dtypes, bytes, parameters, MACs) recomputed; `card.json`, `MODEL_CARD.md` and the module are
 * rewritten. `command` goes into the module header.
 */
export async function repackPretrained(
  name: string,
  targets: PackTargets,
  command: string,
): Promise<PackResult> {
  const modelDir = join(targets.pretrainedDir, name);
  const cardPath = join(modelDir, CARD_JSON);
  if (!existsSync(cardPath)) throw new Error(`--repack ${name}: no ${cardPath}`);
  const old = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
  if (old.name !== name) throw new Error(`${cardPath} names model "${old.name}", not "${name}"`);
  const { reference: _reference, activationFakeQuant: _count, ...architecture } = old.architecture;
  return packPretrained(
    {
      name,
      exported: modelDir,
      labels: old.labels,
      frontEnd: old.frontEnd,
      architecture,
      recipe: old.recipe,
      clips: old.data.clips,
      metrics: old.metrics,
      generatedBy: old.generatedBy,
      moduleGeneratedBy: command,
      kwsKitVersion: old.kwsKitVersion,
      task: old.task,
    },
    targets,
  );
}

/**
 * Card fields (labels, front end, data and its attribution, ...) that several cards share by
 * value become one constant each, so the catalog, and every bundle that imports it, holds each
 * value once.
 *
 * @returns The constant declarations and a function writing one card as source text.
 */
function hoistSharedFields(cards: readonly ModelCard[]): {
  constants: string[];
  cardSource: (card: ModelCard) => string;
} {
  const uses = new Map<string, number>();
  const fieldJson = (card: ModelCard): [string, string][] =>
    Object.entries(card).map(([key, value]) => [key, JSON.stringify(value)]);
  for (const card of cards) {
    for (const [key, json] of fieldJson(card)) {
      if (json.startsWith('{') || json.startsWith('[') || json.length > 80) {
        uses.set(`${key}\u0000${json}`, (uses.get(`${key}\u0000${json}`) ?? 0) + 1);
      }
    }
  }
  const names = new Map<string, string>();
  const constants: string[] = [];
  const perKey = new Map<string, number>();
  for (const [id, count] of uses) {
    if (count < 2) continue;
    const [key, json] = id.split('\u0000') as [string, string];
    const n = perKey.get(key) ?? 0;
    perKey.set(key, n + 1);
    const name = `${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_${n}`;
    names.set(id, name);
    constants.push(`const ${name}: ModelCard['${key}'] = ${json};`, '');
  }
  const cardSource = (card: ModelCard): string =>
    `{${fieldJson(card)
      .map(([key, json]) => `${JSON.stringify(key)}:${names.get(`${key}\u0000${json}`) ?? json}`)
      .join(',')}}`;
  return { constants, cardSource };
}

/**
 * Regenerates `<moduleDir>/catalog.ts` from every `<pretrainedDir>/<name>/card.json` whose module
 * `<moduleDir>/<name>.ts` exists, in name order.
 *
 * @returns The path of the catalog and the names it lists.
 */
export function writeCatalog(targets: PackTargets, generatedBy: string): { path: string; names: string[] } {
  const cards: ModelCard[] = [];
  if (existsSync(targets.pretrainedDir)) {
    for (const name of readdirSync(targets.pretrainedDir).sort()) {
      const cardPath = join(targets.pretrainedDir, name, CARD_JSON);
      if (!existsSync(cardPath)) continue;
      if (!existsSync(join(targets.moduleDir, `${name}.ts`))) {
        throw new Error(`${cardPath} has no generated module ${name}.ts in ${targets.moduleDir}; re-pack it`);
      }
      const card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
      if (card.name !== name) throw new Error(`${cardPath} names model "${card.name}", not "${name}"`);
      cards.push(card);
    }
  }
  const { constants, cardSource } = hoistSharedFields(cards);
  const entries = cards.map(
    (card) => `  {\n    card: ${cardSource(card)},\n    load: () => import('./${card.name}.js'),\n  },`,
  );
  const source = [
    header(generatedBy, 'Lists every pretrained/*/card.json.'),
    "import type { PretrainedEntry } from './embedded-model.js';",
    "import type { ModelCard } from './model-card.js';",
    '',
    ...constants,
    '/** The pretrained models shipped in the package, in name order; weights load lazily. */',
    `export const PRETRAINED_CATALOG: readonly PretrainedEntry[] = [${entries.length > 0 ? `\n${entries.join('\n')}\n` : ''}];`,
    '',
  ].join('\n');
  const path = join(targets.moduleDir, 'catalog.ts');
  mkdirSync(targets.moduleDir, { recursive: true });
  writeFileSync(path, source);
  return { path, names: cards.map((c) => c.name) };
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

/**
 * Family and factory options read off a kws-kit model's layers: BC-ResNet (by `stem_conv`) or
 * CRNN (by `crnn_conv`), at any size, including the smaller convolution and GRU widths of a
 * student or of `pruneModel`. GRU layers of different widths (pruning ranks each layer apart)
 * give `hiddenSizes`, one width per layer, instead of `hiddenSize`. Activation fake-quantization
 * layers are not part of the options (the card counts them).
 */
export function inferArchitecture(model: tfl.LayersModel): PackArchitecture {
  const names = new Set(model.layers.map((l) => l.name));
  const config = (name: string): Record<string, unknown> =>
    model.getLayer(name).getConfig() as Record<string, unknown>;
  const numClasses = model.outputs[0]?.shape[1] as number;
  const inputShape = inputShapeOf(model);
  if (names.has('stem_conv')) {
    const stem = config('stem_conv');
    const causal = model.layers.some((l) => (l.getConfig() as { causal?: unknown }).causal === true);
    return {
      family: 'bc-resnet',
      options: { width: (stem.filters as number) / 16, numClasses, causal, inputShape },
    };
  }
  if (names.has('crnn_conv')) {
    const conv = config('crnn_conv');
    const gruNames = [...names]
      .filter((n) => /^crnn_gru_\d+$/.test(n))
      .sort((a, b) => Number(a.slice(9)) - Number(b.slice(9)));
    const bidirectional = model.getLayer('crnn_gru_1').getClassName() === 'Bidirectional';
    const gruConfig = (name: string): Record<string, unknown> =>
      bidirectional ? (config(name).layer as { config: Record<string, unknown> }).config : config(name);
    const units = gruNames.map((n) => gruConfig(n).units as number);
    const same = units.every((u) => u === units[0]);
    return {
      family: 'crnn',
      options: {
        numClasses,
        inputShape,
        convChannels: conv.filters,
        kernelSize: conv.kernel_size ?? conv.kernelSize,
        stride: conv.strides,
        ...(same ? { hiddenSize: units[0] } : { hiddenSizes: units }),
        gruLayers: gruNames.length,
        bidirectional,
        dropout: names.has('crnn_dropout_1') ? config('crnn_dropout_1').rate : 0,
        attentionSize: config('crnn_attention').units,
      },
    };
  }
  throw new Error('cannot tell the architecture from the layers (no stem_conv or crnn_conv); pass --arch');
}

interface TrainResults {
  model?: string;
  backend?: string;
  data?: { labels?: string[]; train?: number; validation?: number };
  recipe?: Record<string, string | number | boolean>;
  bestEpoch?: number;
  bestValidationAccuracy?: number;
  trainingSeconds?: number;
  history?: unknown[];
}

interface CheckpointFacts {
  labels?: string[];
  recipe: Record<string, string | number | boolean>;
  clips: { train?: number; validation?: number };
  accuracy?: number;
  source: string;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** A setting's `result.json` written by scripts/compress-gsc.ts. */
interface CompressionResult {
  name: string;
  description: string;
  format?: string;
  teacher?: string;
  recipe?: Record<string, unknown>;
  bestEpoch?: number;
  seconds?: number;
  accuracy?: number;
}

function isCompressionResult(r: object): r is CompressionResult {
  return 'description' in r && 'exportDir' in r;
}

function fromCompressionResult(path: string, r: CompressionResult): CheckpointFacts {
  const recipe: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(r.recipe ?? {})) {
    recipe[k] = typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);
  }
  if (r.teacher !== undefined) recipe.teacher = r.teacher;
  if (r.format !== undefined) recipe.weights = r.format;
  if (r.bestEpoch !== undefined) recipe.bestEpoch = r.bestEpoch;
  if (r.seconds !== undefined) recipe.trainingSeconds = Math.round(r.seconds);
  return {
    recipe,
    clips: {},
    ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}),
    source: `compression experiment setting "${r.name}" (${r.description}; best epoch ${r.bestEpoch ?? '?'}), from ${path}`,
  };
}

function fromResults(path: string): CheckpointFacts {
  if (!existsSync(path)) throw new Error(`--results ${path} does not exist (has the run finished?)`);
  const raw = readJson<TrainResults | CompressionResult>(path);
  if (isCompressionResult(raw)) return fromCompressionResult(path, raw);
  const r = raw as TrainResults;
  const recipe: Record<string, string | number | boolean> = { ...(r.recipe ?? {}) };
  if (r.backend !== undefined) recipe.backend = r.backend;
  if (r.bestEpoch !== undefined) recipe.bestEpoch = r.bestEpoch;
  if (r.trainingSeconds !== undefined) recipe.trainingSeconds = r.trainingSeconds;
  return {
    ...(r.data?.labels ? { labels: r.data.labels } : {}),
    recipe,
    clips: {
      ...(r.data?.train !== undefined ? { train: r.data.train } : {}),
      ...(r.data?.validation !== undefined ? { validation: r.data.validation } : {}),
    },
    ...(r.bestValidationAccuracy !== undefined ? { accuracy: r.bestValidationAccuracy } : {}),
    source: `best validation accuracy of the training run (epoch ${r.bestEpoch ?? '?'}), from ${path}`,
  };
}

function fromCheckpoint(dir: string): CheckpointFacts {
  const own = join(dir, 'state.json');
  const last = join(dir, '..', 'last', 'state.json');
  const best = existsSync(own) ? readJson<{ epoch?: number; validationAccuracy?: number }>(own) : {};
  const state = existsSync(last)
    ? readJson<{
        epoch?: number;
        fingerprint?: {
          optimizer?: string;
          batchSize?: number;
          trainExamples?: number;
          labels?: string[];
          seed?: number;
        };
      }>(last)
    : {};
  const f = state.fingerprint ?? {};
  const recipe: Record<string, string | number | boolean> = {};
  if (f.optimizer !== undefined) recipe.optimizer = f.optimizer;
  if (f.batchSize !== undefined) recipe.batchSize = f.batchSize;
  if (f.seed !== undefined) recipe.seed = f.seed;
  if (state.epoch !== undefined) recipe.epochsCompletedWhenPacked = state.epoch;
  if (best.epoch !== undefined) recipe.checkpointEpoch = best.epoch;
  return {
    ...(f.labels ? { labels: f.labels } : {}),
    recipe,
    clips: f.trainExamples !== undefined ? { train: f.trainExamples } : {},
    ...(best.validationAccuracy !== undefined ? { accuracy: best.validationAccuracy } : {}),
    source: `checkpoint ${dir} at epoch ${best.epoch ?? '?'} of a training run not finished when packed (no results JSON)`,
  };
}

function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i] as string;
    const value = argv[i + 1];
    if (!key.startsWith('--') || value === undefined)
      throw new Error(`expected --key value pairs; got "${key}"`);
    flags.set(key.slice(2), value);
  }
  return flags;
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

/** True when a folder's manifest stores any weight quantized, so re-saving would make it float32. */
function isQuantizedFolder(dir: string): boolean {
  const json = JSON.parse(readFileSync(join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
  return json.weightsManifest.some((g) => g.weights.some((w) => w.quantization !== undefined));
}

function summary(root: string, packed: PackResult, catalog: { names: string[] }): Record<string, unknown> {
  const { card } = packed;
  return {
    name: card.name,
    files: packed.files.map((f) => relative(root, f)),
    catalog: catalog.names,
    validationAccuracy: card.metrics.validationAccuracy,
    params: card.profile.params,
    macs: card.profile.macs,
    weightFormat: card.profile.weightFormat,
    bytesOnDisk: card.profile.bytesOnDisk,
  };
}

const USAGE = [
  'usage: tsx scripts/pack-pretrained.ts --name <name> --model <dir> [--results <json>] [--data <dir>]',
  '         [--arch <json>] [--recipe <json>] [--accuracy <x>] [--labels a,b,c] [--backend wasm|cpu] [--root <dir>]',
  '       tsx scripts/pack-pretrained.ts --repack <name|all> [--backend wasm|cpu] [--root <dir>]',
].join('\n');

async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const repack = flags.get('repack');
  const name = flags.get('name');
  const modelDir = flags.get('model');
  if (repack === undefined && (name === undefined || modelDir === undefined)) throw new Error(USAGE);
  // Backends are the application's choice; the core functions above use whatever is current.
  await Promise.all([import('@tensorflow/tfjs-backend-cpu'), import('@tensorflow/tfjs-backend-wasm')]);
  const { selectBackend } = await import('./script-args.js');
  await selectBackend(flags.get('backend') ?? 'wasm');
  registerQuantizeLayers();
  registerQatLayers();
  const root = resolve(flags.get('root') ?? REPO_ROOT);
  const targets: PackTargets = {
    pretrainedDir: join(root, 'pretrained'),
    moduleDir: join(root, 'src', 'models', 'pretrained'),
  };
  const generatedBy = ['npx tsx scripts/pack-pretrained.ts', ...argv.map(quote)].join(' ');

  if (repack !== undefined) {
    const names =
      repack === 'all'
        ? readdirSync(targets.pretrainedDir)
            .filter((n) => existsSync(join(targets.pretrainedDir, n, CARD_JSON)))
            .sort()
        : [repack];
    const done: PackResult[] = [];
    for (const n of names) done.push(await repackPretrained(n, targets, generatedBy));
    const catalog = writeCatalog(targets, generatedBy);
    formatGenerated(targets);
    console.log(
      JSON.stringify(
        done.map((p) => summary(root, p, catalog)),
        null,
        2,
      ),
    );
    return;
  }
  if (name === undefined || modelDir === undefined) throw new Error(USAGE);

  const results = flags.get('results');
  const facts = results !== undefined ? fromResults(results) : fromCheckpoint(modelDir);
  const metadata = readKwsMetadata((await loadArtifacts(modelDir)).userDefinedMetadata);
  const labels = metadata?.labels ?? facts.labels ?? flags.get('labels')?.split(',');
  if (labels === undefined)
    throw new Error('no labels in the model, the results or the checkpoint; pass --labels a,b,c');
  const frontEnd = metadata?.frontEnd ?? { ...DEFAULT_FRONT_END };
  const recipe = {
    ...facts.recipe,
    ...(flags.has('recipe') ? JSON.parse(flags.get('recipe') as string) : {}),
  };

  const model = await loadModel(modelDir);
  const architecture = flags.has('arch')
    ? (JSON.parse(flags.get('arch') as string) as PackArchitecture)
    : inferArchitecture(model);
  let accuracy = flags.has('accuracy') ? Number(flags.get('accuracy')) : facts.accuracy;
  let source = flags.has('accuracy')
    ? `given on the command line (--accuracy); ${facts.source}`
    : facts.source;
  let perClass: ModelCardMetrics['perClass'];
  const clips = { ...facts.clips };
  const dataDir = flags.get('data');
  if (dataDir !== undefined) {
    const data = await loadSpeechCommands(dataDir, { labels, splits: ['validation'], features: frontEnd });
    const validation = data.splits.validation as Split;
    const result = evaluate(model, validation, { batchSize: 100 });
    if (accuracy !== undefined && Math.abs(accuracy - result.accuracy) > 1e-9) {
      console.error(`note: re-evaluated accuracy ${result.accuracy} differs from the recorded ${accuracy}`);
    }
    source = `re-evaluated when packing on the ${validation.labels.length} validation clips (${tf.getBackend()} backend); ${facts.source}`;
    accuracy = result.accuracy;
    perClass = result.perClass.map(({ label, recall, precision, support }) => ({
      label,
      recall,
      precision,
      support,
    }));
    clips.validation = validation.labels.length;
  }
  if (accuracy === undefined || !Number.isFinite(accuracy)) {
    throw new Error('no validation accuracy: pass --results, --data or --accuracy');
  }

  // A quantized export is shipped byte for byte; a float32 checkpoint is re-saved with the
  // registry's metadata (licence, attribution), which changes no weight.
  const asIs = isQuantizedFolder(modelDir) || fakeQuantLayers(model) > 0;
  const packed = await packPretrained(
    {
      name,
      ...(asIs ? { exported: modelDir } : { model }),
      labels,
      frontEnd,
      architecture,
      recipe,
      clips,
      metrics: { validationAccuracy: accuracy, source, ...(perClass ? { perClass } : {}) },
      generatedBy,
    },
    targets,
  );
  model.dispose();
  const catalog = writeCatalog(targets, generatedBy);
  formatGenerated(targets);
  console.log(JSON.stringify(summary(root, packed, catalog), null, 2));
}

/** Formats the generated modules with the repo's biome settings, so `npm run lint` stays clean. */
function formatGenerated(targets: PackTargets): void {
  const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return;
  execFileSync(biome, ['format', '--write', targets.moduleDir], { stdio: 'ignore' });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
