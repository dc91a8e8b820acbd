/**
 * The typed search space of {@link tune}: integer ranges, float ranges (linear or logarithmic)
 * and choices, over named options of the front end, the model factories and the training
 * recipe; validation of a space, and seeded sampling of configurations from it.
 *
 * @packageDocumentation
 */
import { KwsError } from '../../errors.js';
import type { Rng } from '../../random.js';

/** A value a tuned option may take. */
export type ParamValue = number | string | boolean | null;

/** Integers in [low, high], uniform, or log-uniform (`log: true`, needs low ≥ 1). */
export interface IntParam {
  type: 'int';
  low: number;
  high: number;
  log?: boolean;
}

/** Reals in [low, high), uniform, or log-uniform (`log: true`, needs low > 0). */
export interface FloatParam {
  type: 'float';
  low: number;
  high: number;
  log?: boolean;
}

/** One of `values`, each equally likely. */
export interface ChoiceParam {
  type: 'choice';
  values: readonly ParamValue[];
}

/** How one option is searched. */
export type ParamSpec = IntParam | FloatParam | ChoiceParam;

/** Option name → how it is searched. */
export type SearchSpace = Readonly<Record<string, ParamSpec>>;

/** One configuration: option name → value (sampled options plus the fixed base options). */
export type TrialConfig = Record<string, ParamValue>;

/** Front-end options (see `FrontEndOptions`): the mel bands, analysis window, hop, band edges and log offset `eps`. */
export const FRONT_END_OPTION_NAMES = [
  'nMels',
  'nFft',
  'winLength',
  'hopLength',
  'fMin',
  'fMax',
  'eps',
] as const;

/** SpecAugment options applied to training batches (see `SpecAugmentOptions`). */
export const SPEC_AUGMENT_OPTION_NAMES = [
  'freqMasks',
  'freqMaskWidth',
  'timeMasks',
  'timeMaskWidth',
] as const;

/**
 * Model options: `model` picks the family (`'bc-resnet'` or `'crnn'`); `width`, `subBands`,
 * `causal` are BC-ResNet's, `convChannels`, `hiddenSize`, `gruLayers`, `bidirectional` the
 * CRNN's; `dropout` is both.
 */
export const MODEL_OPTION_NAMES = [
  'model',
  'width',
  'dropout',
  'subBands',
  'causal',
  'convChannels',
  'hiddenSize',
  'gruLayers',
  'bidirectional',
] as const;

/**
 * Training-recipe options: the names of `train()`'s options (`optimizer`, `learningRate`,
 * `weightDecay`, `batchSize`, `epochs`, `warmupEpochs` of the schedule), waveform augmentation
 * (`timeShiftMs`, `noiseProbability`, `noiseMaxGain`) and distillation (`temperature`, `alpha`).
 */
export const RECIPE_OPTION_NAMES = [
  'optimizer',
  'learningRate',
  'weightDecay',
  'batchSize',
  'epochs',
  'warmupEpochs',
  'timeShiftMs',
  'noiseProbability',
  'noiseMaxGain',
  'temperature',
  'alpha',
] as const;

/** Every option name the default trial runner understands. */
export const TUNABLE_OPTION_NAMES: readonly string[] = [
  ...FRONT_END_OPTION_NAMES,
  ...SPEC_AUGMENT_OPTION_NAMES,
  ...MODEL_OPTION_NAMES,
  ...RECIPE_OPTION_NAMES,
];

/** An integer range. */
export function intParam(low: number, high: number, options?: { log?: boolean }): IntParam {
  return { type: 'int', low, high, ...(options?.log === undefined ? {} : { log: options.log }) };
}

/** A float range, log-uniform with `{ log: true }` (for learning rates, weight decay, …). */
export function floatParam(low: number, high: number, options?: { log?: boolean }): FloatParam {
  return { type: 'float', low, high, ...(options?.log === undefined ? {} : { log: options.log }) };
}

/** A choice among `values`. */
export function choiceParam(values: readonly ParamValue[]): ChoiceParam {
  return { type: 'choice', values: [...values] };
}

function isParamValue(v: unknown): v is ParamValue {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v))
  );
}

/**
 * Checks a configuration's option names against `knownNames`.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` naming the first unknown option.
 */
export function checkOptionNames(
  what: string,
  names: readonly string[],
  knownNames: readonly string[],
): void {
  for (const name of names) {
    if (!knownNames.includes(name)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `${what} has an unknown option ${JSON.stringify(name)}; known options: ${knownNames.join(', ')}`,
      );
    }
  }
}

function checkParam(name: string, spec: unknown): ParamSpec {
  const bad = (why: string): never => {
    throw new KwsError('INVALID_ARGUMENT', `space.${name} ${why}`);
  };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    return bad("must be { type: 'int' | 'float', low, high, log? } or { type: 'choice', values }");
  }
  const s = spec as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    const allowed = s.type === 'choice' ? ['type', 'values'] : ['type', 'low', 'high', 'log'];
    if (!allowed.includes(key))
      bad(`has an unknown field ${JSON.stringify(key)}; allowed: ${allowed.join(', ')}`);
  }
  if (s.type === 'choice') {
    const values = s.values;
    if (!Array.isArray(values) || values.length === 0) {
      return bad('is an empty choice: values must be a non-empty array');
    }
    values.forEach((v, i) => {
      if (!isParamValue(v)) bad(`values[${i}] must be a finite number, a string, a boolean or null`);
    });
    return { type: 'choice', values: [...(values as ParamValue[])] };
  }
  if (s.type !== 'int' && s.type !== 'float') {
    return bad(`has type ${JSON.stringify(s.type)}; allowed: 'int', 'float', 'choice'`);
  }
  const { low, high } = s;
  if (
    typeof low !== 'number' ||
    !Number.isFinite(low) ||
    typeof high !== 'number' ||
    !Number.isFinite(high)
  ) {
    return bad(`must have finite numbers low and high; got low ${String(low)}, high ${String(high)}`);
  }
  if (low > high) return bad(`is contradictory: low (${low}) > high (${high})`);
  if (s.log !== undefined && typeof s.log !== 'boolean') return bad('log must be true or false');
  const log = s.log === true;
  if (s.type === 'int' && (!Number.isInteger(low) || !Number.isInteger(high))) {
    return bad(`is an int range, so low and high must be integers; got ${low}, ${high}`);
  }
  if (log && low <= 0) return bad(`is log-scaled, so low must be > 0; got ${low}`);
  return { type: s.type, low, high, ...(log ? { log } : {}) };
}

/**
 * Validates a search space: a non-empty object whose keys are known option names and whose
 * values are well-formed {@link ParamSpec}s. Returns a normalised copy.
 *
 * @param knownNames - allowed option names. Default {@link TUNABLE_OPTION_NAMES}.
 * @throws {@link KwsError} `INVALID_ARGUMENT` naming the problem: an empty space, an unknown
 *   option, low > high, a log range with low ≤ 0, non-integer bounds of an int range, an empty
 *   choice, or an unknown spec type.
 */
export function checkSearchSpace(
  space: unknown,
  knownNames: readonly string[] = TUNABLE_OPTION_NAMES,
): SearchSpace {
  if (typeof space !== 'object' || space === null || Array.isArray(space)) {
    throw new KwsError('INVALID_ARGUMENT', 'space must be an object of option name → { type, ... }');
  }
  const names = Object.keys(space);
  if (names.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', 'space is empty: give at least one option to search');
  }
  checkOptionNames('space', names, knownNames);
  const out: Record<string, ParamSpec> = {};
  for (const name of names) out[name] = checkParam(name, (space as Record<string, unknown>)[name]);
  return out;
}

/** Draws one value of `spec` from `rng`. */
export function sampleParam(spec: ParamSpec, rng: Rng): ParamValue {
  if (spec.type === 'choice') return spec.values[rng.int(spec.values.length)] as ParamValue;
  const { low, high } = spec;
  if (spec.type === 'int') {
    if (spec.log !== true) return low + rng.int(high - low + 1);
    // Log-uniform over [low, high + 1) then floored, so every integer gets the mass of its
    // interval [k, k + 1) on the log scale.
    const v = Math.floor(Math.exp(rng.uniform(Math.log(low), Math.log(high + 1))));
    return Math.min(high, Math.max(low, v));
  }
  if (low === high) return low;
  if (spec.log !== true) return rng.uniform(low, high);
  return Math.min(high, Math.max(low, Math.exp(rng.uniform(Math.log(low), Math.log(high)))));
}

/**
 * One configuration drawn from `space`: the options in sorted name order (so the draws do not
 * depend on the object's key order), each from `rng`, over the fixed `base` options.
 */
export function sampleConfig(space: SearchSpace, rng: Rng, base: Readonly<TrialConfig> = {}): TrialConfig {
  const config: TrialConfig = { ...base };
  for (const name of Object.keys(space).sort()) {
    config[name] = sampleParam(space[name] as ParamSpec, rng);
  }
  return sortedConfig(config);
}

/** The configuration with its keys in sorted order (stable JSON, stable tables). */
export function sortedConfig(config: Readonly<TrialConfig>): TrialConfig {
  const out: TrialConfig = {};
  for (const k of Object.keys(config).sort()) out[k] = config[k] as ParamValue;
  return out;
}

/** Canonical text of a configuration (sorted keys), to compare configurations. */
export function configKey(config: Readonly<TrialConfig>): string {
  return JSON.stringify(sortedConfig(config));
}

/**
 * A search space for small BC-ResNets on 1 s clips (with `maxParams: 10_000` about BC-ResNet-0.5
 * to -0.9): width and dropout, mel bands (40, 48 or 64; sub-bands follow), window and hop, the
 * peak learning rate and weight decay, and SpecAugment mask counts. Use with
 * {@link SMALL_BC_RESNET_BASE}.
 */
export const SMALL_BC_RESNET_SPACE: SearchSpace = Object.freeze({
  width: floatParam(0.5, 1),
  dropout: floatParam(0, 0.2),
  nMels: choiceParam([40, 48, 64]),
  winLength: choiceParam([400, 480, 640]),
  hopLength: choiceParam([128, 160, 200]),
  learningRate: floatParam(0.02, 0.3, { log: true }),
  weightDecay: floatParam(1e-4, 3e-3, { log: true }),
  freqMasks: intParam(0, 2),
  timeMasks: intParam(0, 2),
});

/**
 * The fixed options of {@link SMALL_BC_RESNET_SPACE}: the gsc-dev BC-ResNet recipe (SGD, batch
 * 100, ±100 ms time shift, background noise with probability 0.8 and gain up to 0.1; the
 * objective needs the noise clips).
 */
export const SMALL_BC_RESNET_BASE: Readonly<TrialConfig> = Object.freeze({
  model: 'bc-resnet',
  optimizer: 'sgd',
  batchSize: 100,
  timeShiftMs: 100,
  noiseProbability: 0.8,
  noiseMaxGain: 0.1,
});

/** A short text of a space, e.g. `width ∈ [0.5, 1], learningRate ∈ [0.02, 0.3] (log), nMels ∈ {40, 48}`. */
export function showSpace(space: SearchSpace): string {
  return Object.entries(space)
    .map(([name, spec]) => {
      if (spec.type === 'choice') return `${name} ∈ {${spec.values.map((v) => String(v)).join(', ')}}`;
      const tags = [spec.type === 'int' ? 'integer' : '', spec.log === true ? 'log' : ''].filter(Boolean);
      return `${name} ∈ [${spec.low}, ${spec.high}]${tags.length > 0 ? ` (${tags.join(', ')})` : ''}`;
    })
    .join(', ');
}
