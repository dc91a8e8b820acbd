/**
 * Model cards of kws-kit's pretrained models: what each model does, on which data it was trained
 * (with the data's licence and attribution), its front end, architecture, recipe, accuracy and
 * size, as a typed record ({@link ModelCard}) and as Markdown ({@link renderModelCard}).
 *
 * The card format follows the sections of Mitchell et al., "Model Cards for Model Reporting"
 * (FAT* 2019), cut to what a keyword-spotting model needs.
 *
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../../errors.js';
import type { FrontEndConfig } from '../../features/index.js';

/** Training-data name of the gsc-dev models. */
export const GSC_DEV_DATA_NAME = 'gsc-dev (Speech Commands v0.02 subset)';

/** Licence of the Speech Commands data set. */
export const SPEECH_COMMANDS_LICENSE = 'CC BY 4.0';

/** Where the licence text is. */
export const SPEECH_COMMANDS_LICENSE_URL = 'https://creativecommons.org/licenses/by/4.0/';

/** Attribution owed to the Speech Commands data set by models trained on it. */
export const SPEECH_COMMANDS_ATTRIBUTION =
  'Trained on audio from the Speech Commands data set, version 0.02, by Pete Warden (Google), ' +
  'licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). ' +
  'P. Warden, "Speech Commands: A Dataset for Limited-Vocabulary Speech Recognition", arXiv:1804.03209, 2018.';

/** Architecture families with a pretrained model. */
export type PretrainedFamily = 'bc-resnet' | 'crnn';

/** The architecture and the factory options that rebuild it (untrained) in kws-kit. */
export interface ModelCardArchitecture {
  /** `'bc-resnet'` → `bcResNet(options)`, `'crnn'` → `crnn(options)`. */
  family: PretrainedFamily;
  /** Factory options, e.g. `{ width: 1, numClasses: 12, causal: false, inputShape: [101, 40] }`. */
  options: Record<string, unknown>;
  /** The paper the architecture follows. */
  reference: string;
  /**
   * Activation fake-quantization layers (`FakeQuant`, `MovingFakeQuant` of `kws-kit/quantize`)
   * inserted into the factory's graph, when there are any: the model simulates int8 inference,
   * and `options` rebuild it without them.
   */
  activationFakeQuant?: number;
}

/** How a weight tensor is stored in the shards (the manifest's `quantization.dtype`, else its `dtype`). */
export type WeightStorageDtype = 'float32' | 'float16' | 'uint8' | 'uint16' | 'int32' | 'bool';

/** Every {@link WeightStorageDtype}, in the order cards list them. */
export const WEIGHT_STORAGE_DTYPES: readonly WeightStorageDtype[] = [
  'float32',
  'float16',
  'uint16',
  'uint8',
  'int32',
  'bool',
];

/** The weight tensors stored in one dtype. */
export interface WeightStorageGroup {
  /** Weight tensors stored so. */
  tensors: number;
  /** Their values (elements). */
  values: number;
  /** Their bytes in the shards (`values` × 4, 2 or 1). */
  bytes: number;
}

/** The data a model was trained and validated on. */
export interface ModelCardData {
  /** Data set name, e.g. {@link GSC_DEV_DATA_NAME}. */
  name: string;
  /** Clips per split, where known. */
  clips: { train?: number; validation?: number };
  /** Licence of the data, e.g. `'CC BY 4.0'`. */
  license: string;
  /** URL of the licence text. */
  licenseUrl: string;
  /** Attribution text to reproduce with the model. */
  attribution: string;
}

/** Recall, precision and support of one class on the validation split. */
export interface ModelCardClassMetrics {
  /** Class name. */
  label: string;
  /** Fraction of this class's clips predicted as it, in [0, 1]. */
  recall: number;
  /** Fraction of the clips predicted as this class that are it, in [0, 1]. */
  precision: number;
  /** Validation clips of this class. */
  support: number;
}

/** Accuracy figures of a pretrained model. */
export interface ModelCardMetrics {
  /** Arg-max accuracy on the validation split, in [0, 1]. */
  validationAccuracy: number;
  /** Where the figure comes from (which run, epoch, evaluation), in words. */
  source: string;
  /** Per-class figures, when the model was re-evaluated at packing time. */
  perClass?: ModelCardClassMetrics[];
}

/** Size and cost of a model, from `profile()` and the saved files. */
export interface ModelCardProfile {
  /** Weights, trainable or not (batch-norm statistics included). */
  params: number;
  /** Weights updated by training. */
  trainableParams: number;
  /** Multiply-accumulates of one forward pass on one example (convolutions, dense, GRU gates). */
  macs: number;
  /** Multiply-accumulates of normalisation layers, counted apart. */
  normMacs: number;
  /**
   * The dtype that stores the most weight values: `'float32'` for a plain model, `'float16'`,
   * `'uint8'` or `'uint16'` for one written by `exportQuantized` (tfjs dequantizes on load).
   */
  weightFormat: WeightStorageDtype;
  /** Per stored dtype (in {@link WEIGHT_STORAGE_DTYPES} order): tensors, values and bytes. */
  weightStorage: Partial<Record<WeightStorageDtype, WeightStorageGroup>>;
  /** Bytes of the weight shards on disk, as shipped (quantized or not). */
  weightBytes: number;
  /** Bytes of `model.json`. */
  modelJsonBytes: number;
  /** `weightBytes + modelJsonBytes`: what `tf.loadLayersModel(url)` downloads. */
  bytesOnDisk: number;
}

/** Everything known about a pretrained model. Plain JSON. */
export interface ModelCard {
  /** Registry name, e.g. `'bcresnet1-gsc12'`. */
  name: string;
  /** What the model does, in one sentence. */
  task: string;
  /** Class names in output order. */
  labels: string[];
  /** The front end its input features must come from (log offset = `eps`). */
  frontEnd: FrontEndConfig;
  /** One example's input: `[frames, mels]`. */
  inputShape: [number, number];
  /** Architecture family, factory options and paper. */
  architecture: ModelCardArchitecture;
  /** Training recipe as recorded by the run (optimizer, epochs, batch size, …). */
  recipe: Record<string, string | number | boolean>;
  /** Training data, its licence and the attribution it requires. */
  data: ModelCardData;
  /** Validation accuracy (and per-class figures) with their source. */
  metrics: ModelCardMetrics;
  /** Parameters, MACs and bytes. */
  profile: ModelCardProfile;
  /** The command that packed the model. */
  generatedBy: string;
  /** kws-kit version that packed it. */
  kwsKitVersion: string;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
const int = (x: number): string => x.toLocaleString('en-US');
const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

/**
 * Renders a card as Markdown (the `MODEL_CARD.md` shipped next to each model): summary, labels,
 * front end, architecture, data with its licence and attribution, recipe, metrics, size, usage.
 */
export function renderModelCard(card: ModelCard): string {
  const { data, metrics, profile, frontEnd, architecture } = card;
  const clips = [
    data.clips.train === undefined ? null : `${int(data.clips.train)} training`,
    data.clips.validation === undefined ? null : `${int(data.clips.validation)} validation`,
  ].filter((s): s is string => s !== null);
  const lines: string[] = [
    `# Model card: ${card.name}`,
    '',
    `> Generated by \`${card.generatedBy}\` (kws-kit ${card.kwsKitVersion}). Do not edit by hand.`,
    '',
    card.task,
    '',
    `Validation accuracy **${pct(metrics.validationAccuracy)}**; ${int(profile.trainableParams)} trainable ` +
      `parameters (${int(profile.params)} with normalisation statistics), ${int(profile.macs)} MACs per ` +
      `example, ${int(profile.bytesOnDisk)} bytes on disk.`,
    '',
    '## Labels',
    '',
    `${card.labels.length} classes, in output order: ${card.labels.map((l) => code(l)).join(', ')}.`,
    '',
    '## Input and front end',
    '',
    `Input \`[batch, ${card.inputShape[0]}, ${card.inputShape[1]}]\`: frame-major log-mel features ` +
      `ln(mel + eps) from 16-bit mono audio as below (\`logMelSpectrogram\` with these options).`,
    '',
    ...table(
      ['field', 'value'],
      Object.entries(frontEnd).map(([k, v]) => [k === 'eps' ? 'eps (log offset)' : k, code(v)]),
    ),
    '',
    '## Architecture',
    '',
    `${code(architecture.family)} (${architecture.reference}), factory options ${code(architecture.options)}.`,
    '',
    '## Training data',
    '',
    `${data.name}${clips.length > 0 ? `: ${clips.join(', ')} clips` : ''}. ` +
      `Licence: ${data.license} (${data.licenseUrl}).`,
    '',
    `Attribution: ${data.attribution}`,
    '',
    '## Recipe',
    '',
    ...table(
      ['setting', 'value'],
      Object.entries(card.recipe).map(([k, v]) => [k, code(v)]),
    ),
    '',
    '## Metrics',
    '',
    `Validation accuracy: ${pct(metrics.validationAccuracy)}. Source: ${metrics.source}.`,
  ];
  if (metrics.perClass !== undefined && metrics.perClass.length > 0) {
    lines.push(
      '',
      ...table(
        ['class', 'recall', 'precision', 'clips'],
        metrics.perClass.map((c) => [code(c.label), pct(c.recall), pct(c.precision), String(c.support)]),
      ),
    );
  }
  const storage = WEIGHT_STORAGE_DTYPES.flatMap((dtype) => {
    const g = profile.weightStorage[dtype];
    return g === undefined ? [] : [[code(dtype), int(g.tensors), int(g.values), int(g.bytes)]];
  });
  lines.push(
    '',
    '## Size',
    '',
    `Weights stored as ${code(profile.weightFormat)}` +
      (profile.weightFormat === 'float32' ? '' : ' (dequantized to float32 when loaded)') +
      (architecture.activationFakeQuant === undefined
        ? '.'
        : `; ${architecture.activationFakeQuant} activation fake-quantization layers simulate int8 inference.`),
    '',
    ...table(['stored as', 'tensors', 'values', 'bytes'], storage),
    '',
    ...table(
      ['figure', 'value'],
      [
        ['parameters', int(profile.params)],
        ['trainable parameters', int(profile.trainableParams)],
        ['MACs per example', int(profile.macs)],
        ['normalisation MACs', int(profile.normMacs)],
        ['weight bytes', int(profile.weightBytes)],
        ['model.json bytes', int(profile.modelJsonBytes)],
        ['bytes on disk', int(profile.bytesOnDisk)],
      ],
    ),
    '',
    '## Use',
    '',
    '```ts',
    `import { loadPretrained } from 'kws-kit';`,
    `const model = await loadPretrained('${card.name}'); // offline: weights ship in the package`,
    '```',
    '',
    'The files of this folder are the standard tfjs format: served from any URL they load with ' +
      "`loadPretrained('" +
      card.name +
      "', { url })`, or with stock `tf.loadLayersModel(url)` " +
      'after `registerKwsLayers()` (kws-kit/models) has registered the custom layers.',
    '',
  );
  return lines.join('\n');
}

const STORED_BYTES: Readonly<Record<WeightStorageDtype, number>> = {
  float32: 4,
  float16: 2,
  uint16: 2,
  uint8: 1,
  int32: 4,
  bool: 1,
};

/**
 * How a weight manifest stores its tensors: per stored dtype (`quantization.dtype` when present,
 * else `dtype`), the tensors, values and bytes, and the dtype holding the most values (ties go
 * to the earlier dtype of {@link WEIGHT_STORAGE_DTYPES}).
 *
 * @param specs The manifest entries (`weightsManifest[*].weights`), e.g. of a model written by
 *   `exportQuantized` (`float16`, `uint8`, `uint16` entries) or `saveModel` (`float32`).
 * @throws KwsError `MODEL_FILE_CORRUPT` for a dtype tfjs cannot store.
 */
export function summarizeWeightStorage(specs: readonly tf.io.WeightsManifestEntry[]): {
  weightFormat: WeightStorageDtype;
  weightStorage: Partial<Record<WeightStorageDtype, WeightStorageGroup>>;
} {
  const groups = new Map<WeightStorageDtype, WeightStorageGroup>();
  for (const spec of specs) {
    const dtype = (spec.quantization?.dtype ?? spec.dtype) as WeightStorageDtype;
    const width = STORED_BYTES[dtype];
    if (width === undefined) {
      throw new KwsError(
        'MODEL_FILE_CORRUPT',
        `weight ${spec.name} is stored as ${String(dtype)}; allowed: ${WEIGHT_STORAGE_DTYPES.join(', ')}`,
      );
    }
    const values = spec.shape.reduce((a, b) => a * b, 1);
    const g = groups.get(dtype) ?? { tensors: 0, values: 0, bytes: 0 };
    groups.set(dtype, { tensors: g.tensors + 1, values: g.values + values, bytes: g.bytes + values * width });
  }
  const weightStorage: Partial<Record<WeightStorageDtype, WeightStorageGroup>> = {};
  let weightFormat: WeightStorageDtype = 'float32';
  let most = -1;
  for (const dtype of WEIGHT_STORAGE_DTYPES) {
    const g = groups.get(dtype);
    if (g === undefined) continue;
    weightStorage[dtype] = g;
    if (g.values > most) {
      most = g.values;
      weightFormat = dtype;
    }
  }
  return { weightFormat, weightStorage };
}
