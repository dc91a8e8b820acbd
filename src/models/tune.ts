/**
 * Hyper-parameter and front-end search for keyword-spotting models: {@link tune} samples
 * configurations from a typed space (front end, model factory, training recipe), prunes those
 * whose model breaks a size or compute constraint (measured with {@link profile} before
 * anything trains), trains the rest with seeded random search or successive halving, keeps a
 * resumable JSON-lines journal, and reports accuracy against parameters, MACs and bytes with
 * the Pareto fronts marked.
 *
 * The trial runner is injectable: the default objective trains with kws-kit's `train()` on the
 * given splits (recomputing features for front-end changes) and returns the best validation
 * accuracy; any `(config, budget, ctx) => { accuracy }` function can replace it.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { createRng } from '../random.js';
import type { LoggerMode, ProgressStreams } from '../train/index.js';
import { checkChoice, checkInt, checkNumber, checkOptions } from '../validate.js';
import {
  checkOptionNames,
  checkSearchSpace,
  configKey,
  type SearchSpace,
  sampleConfig,
  sortedConfig,
  type TrialConfig,
  TUNABLE_OPTION_NAMES,
} from './tune/search-space.js';
import {
  planSearch,
  promote,
  type TuneBudget,
  type TunePlan,
  type TuneStrategy,
} from './tune/successive-halving.js';
import { type TrainingObjectiveOptions, trainingObjective } from './tune/training-objective.js';
import { measureTrial, type TrialCost, type TrialInput } from './tune/trial-config.js';
import {
  appendJournal,
  evaluationKey,
  type JournalHeader,
  readJournal,
  type TrialEvaluation,
  type TrialStatus,
  TUNE_JOURNAL_VERSION,
} from './tune/tune-journal.js';
import { createTuneReporter, type TuneProgress } from './tune/tune-progress.js';
import { markParetoFronts, type ParetoMarks } from './tune/tune-report.js';

/** The training budget of one objective call. */
export interface TrialBudget {
  /** Epochs the configuration must have trained when the call returns. */
  epochs: number;
  /** Epochs it trained at earlier rungs (0 at the first): a promoted run continues from there. */
  previousEpochs: number;
  /** Rung index (0 for random search). */
  rung: number;
}

/** Context of one objective call. */
export interface TuneContext {
  /** Trial index (sampling order) and name (`t0003`). */
  trial: number;
  id: string;
  /** Seed for the trial's model and training: the search seed plus the trial index. */
  seed: number;
  /**
   * Folder where this trial's training checkpoints live (under the search's `checkpointDir`),
   * the same at every rung, so a promoted or interrupted run resumes from it. Undefined without
   * a journal or `checkpointDir`.
   */
  checkpointDir?: string;
  /** The search's abort signal. */
  signal?: AbortSignal;
}

/** What an objective returns: the accuracy to maximise, optional cost overrides and any metrics. */
export interface ObjectiveResult extends Partial<TrialCost> {
  /** Value to maximise (validation accuracy for the default objective), finite. */
  accuracy: number;
  [metric: string]: unknown;
}

/** Evaluates a configuration after `budget.epochs` epochs of training. */
export type TuneObjective = (
  config: TrialConfig,
  budget: TrialBudget,
  ctx: TuneContext,
) => ObjectiveResult | Promise<ObjectiveResult>;

/** Limits that prune a configuration before it trains (measured on the built model). */
export interface TuneConstraints {
  /** Largest parameter count (all weights, as `profile().total.params`). */
  maxParams?: number;
  /** Largest multiply-accumulates per example (`profile().total.macs`). */
  maxMacs?: number;
  /** Largest weight bytes (float32: 4 per parameter). */
  maxBytes?: number;
}

/** Options of {@link tune}. */
export interface TuneOptions {
  /** What to search; see {@link checkSearchSpace}. */
  space: SearchSpace;
  /** Fixed options of every configuration (e.g. `{ model: 'bc-resnet', optimizer: 'sgd' }`). Default none. */
  base?: TrialConfig;
  /** How much to train; see {@link TuneBudget}. */
  budget: TuneBudget;
  /** `'halving'` (default): successive halving; `'random'`: seeded random search. */
  strategy?: TuneStrategy;
  /** Seed of the sampled configurations and of every trial's training. Default 0. */
  seed?: number;
  /**
   * The trial runner. Default: {@link trainingObjective} on `data` (which is then required):
   * train with kws-kit's `train()`, return the best validation accuracy.
   */
  objective?: TuneObjective;
  /** Data and settings of the default objective. */
  data?: TrainingObjectiveOptions;
  /** Size/compute limits checked before training; a configuration above one is recorded as pruned. */
  constraints?: TuneConstraints;
  /**
   * How a configuration's cost is measured: default {@link measureTrial} (build the kws-kit model
   * and {@link profile} it; needs the configuration to use kws-kit option names); a function of
   * your own; or `false` for no measurement (then no constraints).
   */
  measure?: ((config: TrialConfig) => TrialCost | Promise<TrialCost>) | false;
  /** Classes and clip length the measured models are built for. Default: from `data`, else 12 and 16000. */
  input?: Partial<TrialInput>;
  /** Path of the JSON-lines journal; re-running with it resumes. Default: none (nothing saved). */
  journal?: string;
  /** Folder of per-trial training checkpoints. Default `<journal>.trials` when a journal is given. */
  checkpointDir?: string;
  /** More option names the space and base may use (for a custom objective). Default none. */
  extraOptionNames?: readonly string[];
  /** Most configurations sampled while looking for `budget.trials` that fit. Default 20·trials. */
  maxSamples?: number;
  /** Throw on the first corrupt journal line instead of warning and re-running it. Default false. */
  strictJournal?: boolean;
  /** Progress output: `'auto'` (default), `'json'`, `'silent'`. */
  logger?: LoggerMode;
  /** Where progress goes. Default process.stdout / process.stderr. */
  streams?: ProgressStreams;
  /** Stops the search between (and, with the default objective, inside) trials. */
  signal?: AbortSignal;
}

/** The final state of one sampled configuration. */
export interface TrialRecord extends Partial<TrialCost> {
  trial: number;
  id: string;
  config: TrialConfig;
  status: TrialStatus;
  /** Highest rung reached and the epochs trained by then. */
  rung: number;
  epochs: number;
  /** Objective at that rung; null unless status is 'ok'. */
  accuracy: number | null;
  reason?: string;
  metrics?: Record<string, unknown>;
  /** Wall time over all its evaluations, in seconds. */
  seconds: number;
  /** Whether the trial is on the accuracy-vs-cost Pareto front, per cost. */
  front: ParetoMarks;
}

/** What {@link tune} returns. */
export interface TuneResult {
  strategy: TuneStrategy;
  seed: number;
  plan: TunePlan;
  /** One record per sampled configuration, in sampling order. */
  trials: TrialRecord[];
  /** Every evaluation, in the order of the search. */
  evaluations: TrialEvaluation[];
  /** The best trial among those that trained longest (ties: earlier trial), or null. */
  best: TrialRecord | null;
  /** Objective calls made by this call (evaluations read from the journal excluded). */
  objectiveCalls: number;
  /** Evaluations taken from the journal. */
  fromJournal: number;
  /** Corrupt journal lines (code `MODEL_FILE_CORRUPT`); their evaluations ran again. */
  warnings: KwsError[];
  /** Whether the abort signal ended the search early. */
  stopped: boolean;
  /** Wall time of this call, in seconds. */
  seconds: number;
}

const OPTION_KEYS = [
  'space',
  'base',
  'budget',
  'strategy',
  'seed',
  'objective',
  'data',
  'constraints',
  'measure',
  'input',
  'journal',
  'checkpointDir',
  'extraOptionNames',
  'maxSamples',
  'strictJournal',
  'logger',
  'streams',
  'signal',
];

function trialId(index: number): string {
  return `t${String(index).padStart(4, '0')}`;
}

function checkConstraints(value: unknown): TuneConstraints {
  const c = checkOptions('constraints', value as TuneConstraints);
  for (const key of Object.keys(c)) {
    checkOptionNames('constraints', [key], ['maxParams', 'maxMacs', 'maxBytes']);
    checkNumber(`constraints.${key}`, c[key as keyof TuneConstraints], 0, Number.POSITIVE_INFINITY, true);
  }
  return c;
}

function violation(cost: TrialCost, c: TuneConstraints): string | null {
  if (c.maxParams !== undefined && cost.params > c.maxParams) {
    return `params ${cost.params} > maxParams ${c.maxParams}`;
  }
  if (c.maxMacs !== undefined && cost.macs > c.maxMacs) return `MACs ${cost.macs} > maxMacs ${c.maxMacs}`;
  if (c.maxBytes !== undefined && cost.bytes > c.maxBytes)
    return `bytes ${cost.bytes} > maxBytes ${c.maxBytes}`;
  return null;
}

function describeError(e: KwsError): string {
  return `${e.code}: ${e.message}`;
}

/**
 * Searches `space` for the configuration with the best objective (validation accuracy by
 * default) within `budget`.
 *
 * Sequence (a function of `seed` alone, whatever the results): configurations are drawn one by
 * one from a generator seeded with `seed` (options in sorted name order over `base`). Each is
 * measured (parameters, MACs, bytes of its model from {@link profile}); one that breaks a
 * constraint is recorded as `'pruned'`, one whose model or front end cannot be built as
 * `'invalid'`, and neither trains nor counts towards `budget.trials`. Random search trains each
 * of the `trials` that fit for `budget.epochs`; successive halving trains them for the first
 * rung's epochs, then promotes the best 1/η (ties: earlier trial) to each next rung, where the
 * objective continues them to the rung's epochs (see {@link planSearch}).
 *
 * Journal: with `journal`, a header and every finished evaluation are appended as JSON lines.
 * Re-running with the same options and journal takes finished evaluations from it (the objective
 * is not called for them) and gives the same result as an uninterrupted run with a
 * deterministic objective; the default objective's checkpoints (under `checkpointDir`) let an
 * interrupted trial continue from its last finished epoch. A corrupt line becomes a warning
 * (code `MODEL_FILE_CORRUPT`) and only its evaluation runs again.
 *
 * Progress: one line per evaluation on a terminal (trial k of n, best so far), else one JSON
 * line per evaluation on stdout (see `logger`).
 *
 * @example
 * ```ts
 * const result = await tune({
 *   space: { width: floatParam(0.25, 1), nMels: choiceParam([40, 80]), learningRate: floatParam(0.01, 0.3, { log: true }) },
 *   base: { model: 'bc-resnet' },
 *   budget: { trials: 27, minEpochs: 1, maxEpochs: 9, eta: 3 },
 *   constraints: { maxParams: 10_000 },
 *   data: { train, validation, backgroundNoise },
 *   journal: 'runs/tune.jsonl',
 * });
 * ```
 * @throws {@link KwsError} `INVALID_ARGUMENT` for an empty or contradictory space, an unknown
 *   option name, a budget below one trial, `epochs` searched under successive halving, a
 *   journal written by another search, or a corrupt line with `strictJournal`
 *   (`MODEL_FILE_CORRUPT`).
 */
export async function tune(options: TuneOptions): Promise<TuneResult> {
  const started = performance.now();
  const o = checkOptions('options', options);
  checkOptionNames('tune options', Object.keys(o), OPTION_KEYS);
  const known = [...TUNABLE_OPTION_NAMES, ...(o.extraOptionNames ?? [])];
  const space = checkSearchSpace(o.space, known);
  const base = sortedConfig(checkOptions('base', o.base) as TrialConfig);
  checkOptionNames('base', Object.keys(base), known);
  const strategy = checkChoice<TuneStrategy>('strategy', o.strategy ?? 'halving', ['halving', 'random']);
  if (strategy === 'halving' && ('epochs' in space || 'epochs' in base)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'epochs cannot be searched or fixed under successive halving: the rungs set it (use budget.minEpochs / maxEpochs)',
    );
  }
  const plan = planSearch(strategy, o.budget as TuneBudget);
  const seed = checkNumber('seed', o.seed ?? 0);
  const constraints = checkConstraints(o.constraints);
  const maxSamples = checkInt('maxSamples', o.maxSamples ?? 20 * (plan.rungs[0]?.trials ?? 1), 1);
  const logger = checkChoice<LoggerMode>('logger', o.logger ?? 'auto', ['auto', 'json', 'silent']);
  if (o.objective !== undefined && typeof o.objective !== 'function') {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'objective must be a function (config, budget, ctx) => { accuracy }',
    );
  }
  if (o.objective === undefined && o.data === undefined) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'give data ({ train, validation, ... }) for the default training objective, or an objective function',
    );
  }
  const objective: TuneObjective = o.objective ?? trainingObjective(o.data as TrainingObjectiveOptions);
  const input: TrialInput = {
    numClasses: o.input?.numClasses ?? o.data?.train.labelNames.length ?? 12,
    clipSamples: o.input?.clipSamples ?? o.data?.train.audio?.[0]?.length ?? 16000,
  };
  const measure =
    o.measure === false
      ? null
      : (o.measure ?? ((config: TrialConfig): TrialCost => measureTrial(config, input)));
  if (measure === null && Object.keys(constraints).length > 0) {
    throw new KwsError('INVALID_ARGUMENT', 'constraints need a measurement: do not pass measure: false');
  }
  const checkpointRoot = o.checkpointDir ?? (o.journal === undefined ? undefined : `${o.journal}.trials`);
  const reporter = createTuneReporter(logger, o.streams);
  const signal = o.signal;
  // A function, so that each check reads the signal anew (it changes while trials run).
  const aborted = (): boolean => signal?.aborted === true;

  // Journal: what is already done, and a header that a resume must match.
  const header: JournalHeader = {
    type: 'header',
    version: TUNE_JOURNAL_VERSION,
    search: { seed, strategy, space, base, budget: plan, constraints, input },
  };
  const done = new Map<string, TrialEvaluation>();
  let warnings: KwsError[] = [];
  if (o.journal !== undefined) {
    const contents = await readJournal(o.journal);
    warnings = contents.warnings;
    if (o.strictJournal === true && warnings.length > 0) throw warnings[0] as KwsError;
    if (
      contents.header !== null &&
      JSON.stringify(contents.header.search) !== JSON.stringify(header.search)
    ) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `the journal ${o.journal} was written by a different search (seed, strategy, space, base, budget, ` +
          'constraints or input differ); use another journal file or the same options',
      );
    }
    for (const e of contents.evaluations) done.set(evaluationKey(e.trial, e.rung), e);
    if (contents.header === null) await appendJournal(o.journal, [header]);
  }

  const evaluations: TrialEvaluation[] = [];
  const latest = new Map<number, TrialEvaluation>();
  const seconds = new Map<number, number>();
  let objectiveCalls = 0;
  let fromJournal = 0;
  let trained = 0;
  const totalTrained = plan.rungs.reduce((a, r) => a + r.trials, 0);
  let best: TuneProgress['best'] = null;
  let stopped = false;

  const record = async (e: TrialEvaluation, cached: boolean): Promise<void> => {
    evaluations.push(e);
    latest.set(e.trial, e);
    seconds.set(e.trial, (seconds.get(e.trial) ?? 0) + e.seconds);
    if (!cached && o.journal !== undefined) await appendJournal(o.journal, [e]);
    if (e.status === 'ok') {
      trained += 1;
      const acc = e.accuracy as number;
      if (best === null || e.epochs > best.epochs || (e.epochs === best.epochs && acc > best.accuracy)) {
        best = { id: e.id, accuracy: acc, epochs: e.epochs };
      }
    }
    reporter.report({ evaluation: e, done: trained, total: totalTrained, best, fromJournal: cached });
  };

  const fromCache = (trial: number, rung: number, config: TrialConfig): TrialEvaluation | null => {
    const cached = done.get(evaluationKey(trial, rung));
    if (cached === undefined) return null;
    if (configKey(cached.config) !== configKey(config)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `the journal ${o.journal} holds another configuration for ${trialId(trial)}; it was written by a ` +
          'different search: use another journal file',
      );
    }
    fromJournal += 1;
    return cached;
  };

  /** Trains (or takes from the journal) one configuration at one rung. Null when stopped. */
  const run = async (
    trial: number,
    rung: number,
    config: TrialConfig,
    cost: Partial<TrialCost>,
  ): Promise<TrialEvaluation | null> => {
    const cached = fromCache(trial, rung, config);
    if (cached !== null) {
      await record(cached, true);
      return cached;
    }
    if (aborted()) return null;
    const id = trialId(trial);
    const r = plan.rungs[rung] as { epochs: number };
    const previousEpochs = rung === 0 ? 0 : (plan.rungs[rung - 1] as { epochs: number }).epochs;
    const ctx: TuneContext = {
      trial,
      id,
      seed: seed + trial,
      // '/' joins on every platform Node runs on; node:path is not imported by the models area.
      ...(checkpointRoot === undefined ? {} : { checkpointDir: `${checkpointRoot}/${id}` }),
      ...(signal === undefined ? {} : { signal }),
    };
    const t0 = performance.now();
    let evaluation: TrialEvaluation;
    try {
      objectiveCalls += 1;
      const out = await objective({ ...config }, { epochs: r.epochs, previousEpochs, rung }, ctx);
      if (aborted()) return null; // a run cut short is not a result
      const { accuracy, params, macs, bytes, ...metrics } = checkObjectiveResult(out);
      evaluation = {
        type: 'evaluation',
        trial,
        id,
        rung,
        epochs: r.epochs,
        config,
        status: 'ok',
        accuracy,
        ...cost,
        ...(params === undefined ? {} : { params }),
        ...(macs === undefined ? {} : { macs }),
        ...(bytes === undefined ? {} : { bytes }),
        ...(Object.keys(metrics).length === 0 ? {} : { metrics }),
        seconds: (performance.now() - t0) / 1000,
      };
    } catch (e) {
      if (!(e instanceof KwsError) || aborted()) throw e;
      // The objective rejected the configuration (e.g. a front end too short for the model).
      evaluation = {
        type: 'evaluation',
        trial,
        id,
        rung,
        epochs: 0,
        config,
        status: 'invalid',
        accuracy: null,
        ...cost,
        reason: describeError(e),
        seconds: (performance.now() - t0) / 1000,
      };
    }
    await record(evaluation, false);
    return evaluation;
  };

  /** Measures a new configuration; returns its pruned/invalid evaluation or its cost. */
  const screen = async (
    trial: number,
    config: TrialConfig,
  ): Promise<{ rejected: TrialEvaluation } | { cost: Partial<TrialCost> }> => {
    const cached = done.get(evaluationKey(trial, 0));
    if (cached !== undefined && cached.status === 'ok') {
      const { params, macs, bytes } = cached;
      return {
        cost: {
          ...(params === undefined ? {} : { params }),
          ...(macs === undefined ? {} : { macs }),
          ...(bytes === undefined ? {} : { bytes }),
        },
      };
    }
    if (cached !== undefined) {
      const c = fromCache(trial, 0, config) as TrialEvaluation;
      await record(c, true);
      return { rejected: c };
    }
    if (measure === null) return { cost: {} };
    const t0 = performance.now();
    let cost: TrialCost;
    const reject = async (status: TrialStatus, reason: string, c: Partial<TrialCost>) => {
      const e: TrialEvaluation = {
        type: 'evaluation',
        trial,
        id: trialId(trial),
        rung: 0,
        epochs: 0,
        config,
        status,
        accuracy: null,
        ...c,
        reason,
        seconds: (performance.now() - t0) / 1000,
      };
      await record(e, false);
      return { rejected: e };
    };
    try {
      cost = await measure({ ...config });
    } catch (e) {
      if (!(e instanceof KwsError)) throw e;
      return reject('invalid', describeError(e), {});
    }
    const why = violation(cost, constraints);
    if (why !== null) return reject('pruned', why, cost);
    return { cost };
  };

  // Rung 0: sample until budget.trials configurations fit (or maxSamples were drawn).
  const rng = createRng(seed);
  const configs: TrialConfig[] = [];
  const costs = new Map<number, Partial<TrialCost>>();
  let current: { trial: number; accuracy: number | null }[] = [];
  const firstRung = plan.rungs[0] as { trials: number };
  for (let trial = 0; current.length < firstRung.trials && trial < maxSamples; trial++) {
    if (aborted()) {
      stopped = true;
      break;
    }
    const config = sampleConfig(space, rng, base);
    configs.push(config);
    const screened = await screen(trial, config);
    if ('rejected' in screened) continue;
    costs.set(trial, screened.cost);
    const e = await run(trial, 0, config, screened.cost);
    if (e === null) {
      stopped = true;
      break;
    }
    current.push({ trial, accuracy: e.accuracy });
  }
  // Later rungs: promote the best of the previous rung, in trial order.
  for (let rung = 1; rung < plan.rungs.length && !stopped; rung++) {
    const next = promote(current, (plan.rungs[rung] as { trials: number }).trials).sort((a, b) => a - b);
    const results: { trial: number; accuracy: number | null }[] = [];
    for (const trial of next) {
      const e = await run(trial, rung, configs[trial] as TrialConfig, costs.get(trial) ?? {});
      if (e === null) {
        stopped = true;
        break;
      }
      results.push({ trial, accuracy: e.accuracy });
    }
    current = results;
  }

  const records: TrialRecord[] = [];
  configs.forEach((config, trial) => {
    const e = latest.get(trial);
    if (e === undefined) return; // sampled but never evaluated (stopped)
    records.push({
      trial,
      id: e.id,
      config,
      status: e.status,
      rung: e.rung,
      epochs: e.epochs,
      accuracy: e.accuracy,
      ...(e.params === undefined ? {} : { params: e.params }),
      ...(e.macs === undefined ? {} : { macs: e.macs }),
      ...(e.bytes === undefined ? {} : { bytes: e.bytes }),
      ...(e.reason === undefined ? {} : { reason: e.reason }),
      ...(e.metrics === undefined ? {} : { metrics: e.metrics }),
      seconds: seconds.get(trial) ?? 0,
      front: { params: false, macs: false, bytes: false },
    });
  });
  markParetoFronts(records);
  return {
    strategy,
    seed,
    plan,
    trials: records,
    evaluations,
    best: bestRecord(records),
    objectiveCalls,
    fromJournal,
    warnings,
    stopped,
    seconds: (performance.now() - started) / 1000,
  };
}

function checkObjectiveResult(out: unknown): ObjectiveResult {
  const r = out as ObjectiveResult;
  if (
    typeof out !== 'object' ||
    out === null ||
    typeof r.accuracy !== 'number' ||
    !Number.isFinite(r.accuracy)
  ) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `the objective must return { accuracy: finite number, ... }; got ${JSON.stringify(out) ?? String(out)}`,
    );
  }
  for (const key of ['params', 'macs', 'bytes'] as const) {
    if (r[key] !== undefined) checkNumber(`objective result ${key}`, r[key], 0);
  }
  return r;
}

/** The best trial among those that trained the most epochs (ties: the earlier trial). */
function bestRecord(records: readonly TrialRecord[]): TrialRecord | null {
  let best: TrialRecord | null = null;
  for (const r of records) {
    if (r.status !== 'ok' || r.accuracy === null) continue;
    if (
      best === null ||
      r.epochs > best.epochs ||
      (r.epochs === best.epochs && r.accuracy > (best.accuracy as number))
    ) {
      best = r;
    }
  }
  return best;
}
