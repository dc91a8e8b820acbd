/**
 * Structured (channel / filter) pruning that returns a genuinely smaller model: fewer channels in
 * the layer configs, so fewer parameters and MACs, not zeroed weights.
 *
 * 1. {@link channelGroups} finds the sets of channels that must go together (a BC-ResNet stage,
 *    tied by its residual and broadcast additions; a CRNN's conv filters; each GRU layer's units).
 * 2. Each group's channels are ranked by the L1 norm of the filters that create them (Li et al.,
 *    ICLR 2017) or by batch-norm |γ| (network slimming, Liu et al., ICCV 2017), and the lowest
 *    `round(ratio · n)` are removed.
 * 3. The model is rebuilt from its own config with the new channel counts (every other setting,
 *    layer name and seed unchanged) and the kept weights are copied: producers keep their kernel
 *    columns and biases, per-channel layers (depthwise kernels, BatchNormalization,
 *    SubSpectralNorm γ, β and moving statistics) their entries, consumers their kernel rows
 *    (after CRNN's mel × channel flattening, rows m·C + c). A GRU keeps, for every kept unit j,
 *    columns j, h + j and 2h + j of its kernel `[in, 3h]`, recurrent kernel `[h, 3h]` and bias
 *    `[3h]` (tfjs-layers' gate order z, r, h) and rows j of its recurrent kernel; the next GRU's,
 *    the attention's or the classifier's input rows follow.
 *
 * Exactness: the pruned model computes what the original computes after zeroing the kernel rows
 * by which removed channels reach other channels (every consumer's input rows, a GRU's recurrent
 * rows): a removed channel then still has values, but no path out of it. Fine-tune the result
 * with kws-kit's `train()` like any model.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { profile, registerKwsLayers } from '../models/index.js';
import { checkChoice, checkNumber, checkOptions } from '../validate.js';
import {
  analyzeChannels,
  type ChannelAnalysis,
  type ChannelGroup,
  type TensorChannels,
} from './channel-groups.js';
import { channelImportance, PRUNE_CRITERIA, type PruneCriterion, topChannels } from './channel-importance.js';

/** Options of {@link pruneModel}. Give `ratio`, `perLayer` or both. */
export interface PruneOptions {
  /**
   * Fraction of channels to remove from every prunable group, in [0, 1): a group of n channels
   * keeps `n − round(ratio·n)`. Default 0 (groups not named in `perLayer` are left whole).
   */
  ratio?: number;
  /**
   * Ratio per group, overriding `ratio`: keys are group names (see {@link channelGroups}) or the
   * name of any layer, meaning the group of that layer's output channels (e.g. `'crnn_gru_1'`
   * for the first GRU's units, `'stage3_block2_ssn'` for BC-ResNet's stage 3). Values in [0, 1).
   */
  perLayer?: Record<string, number>;
  /** Ranking: `'l1'` (filter L1 norm, default) or `'bn-scale'` (batch-norm |γ|, network slimming). */
  criterion?: PruneCriterion;
  /**
   * Shape of one example without the batch dimension, for the parameter / MAC report; needed only
   * when the model input has an unknown dimension (e.g. `[101, 40]` for a BC-ResNet built with
   * `inputShape: [null, 40]`).
   */
  inputShape?: number[];
}

/** Before/after counts of one pruned group (or of the whole model). */
export interface PruneCounts {
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
}

/** Report of one channel group. */
export interface PruneGroupReport extends PruneCounts {
  /** Group name (see {@link channelGroups}). */
  name: string;
  /**
   * Layers whose weights the group slices (producers, per-channel members, consumers). Parameters
   * and MACs of this group are summed over these layers, so a layer between two groups (e.g. a
   * 1×1 conv) counts in both.
   */
  layers: string[];
  /** Ratio applied. */
  ratio: number;
  channelsBefore: number;
  channelsAfter: number;
  /** Kept channels, as indices into the original channels, ascending. */
  kept: number[];
  /** Importance score of every original channel under the criterion; null for a group left whole. */
  importance: number[] | null;
}

/** What {@link pruneModel} reports. */
export interface PruneReport {
  criterion: PruneCriterion;
  /** Every prunable group, in execution order (unpruned ones with equal before/after). */
  groups: PruneGroupReport[];
  /** Whole-model parameters (moving statistics included) and MACs, before and after. */
  total: PruneCounts;
}

/** Result of {@link pruneModel}. */
export interface PrunedModel {
  /** The rebuilt, smaller model (a new model; the input model is not changed). */
  model: tfl.LayersModel;
  report: PruneReport;
}

/**
 * Row-major sub-tensor keeping `indices` along `axis`: the values of `tf.gather(x, indices,
 * axis)`.
 *
 * @returns the elements and the new shape
 */
export function takeAlongAxis(
  values: Float32Array,
  shape: readonly number[],
  axis: number,
  indices: readonly number[],
): { values: Float32Array; shape: number[] } {
  const n = shape[axis] as number;
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const out = new Float32Array(outer * indices.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const j of indices) {
      const start = (a * n + j) * inner;
      out.set(values.subarray(start, start + inner), o);
      o += inner;
    }
  }
  const newShape = shape.slice();
  newShape[axis] = indices.length;
  return { values: out, shape: newShape };
}

/**
 * Indices of `kept` channels in an axis of `copies` blocks of `size` channels, block-major
 * (`b·size + k`): a flattened `[M, C]` axis, or a GRU's gate-major `[3·h]` axis.
 */
export function expandChannels(kept: readonly number[], size: number, copies: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < copies; b++) for (const k of kept) out.push(b * size + k);
  return out;
}

function checkRatio(name: string, value: unknown): number {
  const r = checkNumber(name, value, 0, 1);
  if (r >= 1)
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be in [0, 1) (a fraction of channels to remove); got ${r}`,
    );
  return r;
}

/** Ratio of every group: `perLayer` (by group or layer name) over `ratio`. */
function groupRatios(
  analysis: ChannelAnalysis,
  ratio: number,
  perLayer: Record<string, number>,
): Map<ChannelGroup, number> {
  const ratios = new Map<ChannelGroup, number>(analysis.groups.map((g) => [g, ratio]));
  const byName = new Map<string, ChannelGroup>(analysis.groups.map((g) => [g.name, g]));
  for (const l of analysis.layers) {
    const out = l.outputs[0];
    const g = out === undefined ? undefined : analysis.groupOf(out.space);
    if (g !== undefined && !byName.has(l.layer.name)) byName.set(l.layer.name, g);
  }
  for (const [key, value] of Object.entries(perLayer)) {
    const g = byName.get(key);
    if (g === undefined) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `perLayer key ${JSON.stringify(key)} names no prunable group or layer whose output channels can be ` +
          `pruned; groups: ${analysis.groups.map((x) => x.name).join(', ')}`,
      );
    }
    ratios.set(g, checkRatio(`perLayer[${JSON.stringify(key)}]`, value));
  }
  return ratios;
}

type LayerConfig = { className?: string; config: Record<string, unknown> };

/** Kept indices along a tensor's last axis, or null when its channels are all kept. */
type KeptOf = (c: TensorChannels | undefined) => number[] | null;

/** Slices of one layer's weights: for each weight, `[axis, indices]` pairs. */
function sliceWeight(
  className: string,
  role: string,
  short: string,
  rank: number,
  input: number[] | null,
  output: number[] | null,
  gates: number[] | null,
): [number, number[] | null][] {
  const last = rank - 1;
  if (role === 'pass') return [[last, output]];
  if (role === 'consumer-pass') return short === 'kernel' ? [[0, input]] : [];
  if (className === 'GRU') {
    if (short === 'kernel')
      return [
        [0, input],
        [1, gates],
      ];
    if (short === 'recurrent_kernel')
      return [
        [0, output],
        [1, gates],
      ];
    return [[0, gates]];
  }
  if (short !== 'kernel') return [[last, output]];
  if (className === 'Dense')
    return [
      [0, input],
      [last, output],
    ];
  if (className === 'Conv2D')
    return [
      [2, input],
      [last, output],
    ];
  return [[last, output]];
}

function rebuild(
  model: tfl.LayersModel,
  analysis: ChannelAnalysis,
  keptOf: KeptOf,
  sizeOf: (c: TensorChannels) => number,
): tfl.LayersModel {
  const config = JSON.parse(JSON.stringify(model.getConfig())) as { layers: LayerConfig[] };
  const entries = new Map(config.layers.map((e) => [e.config.name as string, e]));
  for (const l of analysis.layers) {
    const out = l.outputs[0];
    if (out === undefined || keptOf(out) === null) continue;
    const c = entries.get(l.layer.name)?.config;
    if (c === undefined) continue;
    const size = sizeOf(out);
    if (l.className === 'Dense' || l.className === 'GRU') c.units = size;
    else if (l.className === 'Conv2D' || l.className === 'SpectralConv') c.filters = size;
    else if (l.className === 'Reshape') {
      const target = (c.targetShape as number[]).slice();
      target[target.length - 1] = size;
      c.targetShape = target;
    }
  }
  registerKwsLayers();
  const dict = config as unknown as tf.serialization.ConfigDict;
  type Ctor<T extends tf.serialization.Serializable> = tf.serialization.SerializableConstructor<T>;
  const built: tfl.LayersModel =
    model instanceof tfl.Sequential
      ? tfl.Sequential.fromConfig<tfl.Sequential>(tfl.Sequential as unknown as Ctor<tfl.Sequential>, dict)
      : tfl.LayersModel.fromConfig<tfl.LayersModel>(
          tfl.LayersModel as unknown as Ctor<tfl.LayersModel>,
          dict,
        );
  const metadata = model.getUserDefinedMetadata();
  if (metadata !== undefined) built.setUserDefinedMetadata(metadata);
  return built;
}

function copyWeights(from: ChannelAnalysis, to: tfl.LayersModel, keptOf: KeptOf): void {
  for (const l of from.layers) {
    if (l.layer.weights.length === 0) continue;
    const input = keptOf(l.inputs[0]);
    const output = keptOf(l.outputs[0]);
    const out = l.outputs[0];
    const gates =
      output === null || out === undefined ? null : expandChannels(output, from.sizeOf(out.space), 3);
    const target = to.getLayer(l.layer.name);
    const values = l.layer.weights.map((w) => {
      let v = { values: w.read().dataSync() as Float32Array, shape: w.shape as number[] };
      const short = w.originalName.split('/').pop() as string;
      if (l.role !== 'barrier' && l.role !== 'merge' && l.role !== 'reshape') {
        for (const [axis, indices] of sliceWeight(
          l.className,
          l.role,
          short,
          v.shape.length,
          input,
          output,
          gates,
        )) {
          if (indices !== null) v = takeAlongAxis(v.values, v.shape, axis, indices);
        }
      }
      return tf.tensor(v.values, v.shape, 'float32');
    });
    try {
      target.setWeights(values);
    } finally {
      tf.dispose(values);
    }
  }
}

function countsOf(
  rows: Map<string, { params: number; macs: number }>,
  layers: readonly string[],
): { params: number; macs: number } {
  let params = 0;
  let macs = 0;
  for (const name of layers) {
    const r = rows.get(name);
    if (r === undefined) continue;
    params += r.params;
    macs += r.macs;
  }
  return { params, macs };
}

/**
 * Structured pruning: removes whole channels (filters, GRU units) and returns a rebuilt, smaller
 * model with the kept weights, plus a report of channels, parameters and MACs before and after.
 * See the module documentation for the grouping, ranking and exactness. Supported layers:
 * Dense, Conv2D, GRU (plain, unidirectional), kws-kit's SpectralConv, TemporalConv,
 * SubSpectralNorm, FrequencyMean, ChannelDropout and AttentionPooling, BatchNormalization,
 * elementwise merges, activations, dropout, pooling, reshapes/flattens; any other layer freezes
 * the channels around it (they are left unpruned), so BC-ResNet and unidirectional CRNN models
 * prune fully.
 *
 * @example
 * ```ts
 * const { model: small, report } = pruneModel(crnn(), { perLayer: { crnn_gru_1: 0.5, crnn_gru_2: 0.5 } });
 * console.log(report.total.macsBefore, '→', report.total.macsAfter);
 * await train(small, { ... }); // fine-tune
 * ```
 * @throws KwsError `INVALID_ARGUMENT` for a ratio outside [0, 1), an unknown option, criterion or
 *   perLayer key, a group that would keep no channel, or `'bn-scale'` on a pruned group without
 *   batch norm; `MODEL_INVALID` for a model with nothing to prune (no prunable group), nested
 *   models or shared layers.
 */
export function pruneModel(model: tfl.LayersModel, options: PruneOptions): PrunedModel {
  const opts = checkOptions('options', options);
  const allowed = ['ratio', 'perLayer', 'criterion', 'inputShape'];
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `unknown pruneModel option ${JSON.stringify(key)}; allowed: ${allowed.join(', ')}`,
      );
    }
  }
  if (opts.ratio === undefined && opts.perLayer === undefined) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'pruneModel needs options.ratio or options.perLayer (fractions of channels to remove)',
    );
  }
  const ratio = checkRatio('ratio', opts.ratio ?? 0);
  const perLayer = checkOptions('perLayer', opts.perLayer);
  const criterion = checkChoice('criterion', opts.criterion ?? 'l1', PRUNE_CRITERIA);
  const profileOptions = opts.inputShape === undefined ? {} : { inputShape: opts.inputShape };

  const analysis = analyzeChannels(model);
  if (analysis.groups.length === 0) {
    throw new KwsError(
      'MODEL_INVALID',
      `model ${model.name} has no prunable channel group (channels created by Dense, Conv2D, SpectralConv or ` +
        'GRU layers that reach neither an input nor an output nor an unsupported layer such as Bidirectional)',
    );
  }
  const ratios = groupRatios(analysis, ratio, perLayer as Record<string, number>);

  const kept = new Map<ChannelGroup, number[]>();
  const importance = new Map<ChannelGroup, Float64Array | null>();
  for (const g of analysis.groups) {
    const r = ratios.get(g) as number;
    const keep = g.size - Math.round(r * g.size);
    if (keep < 1) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `pruning group ${g.name} (${g.size} channel${g.size === 1 ? '' : 's'}) by ratio ${r} would keep no channel; ` +
          `use a smaller ratio for it (perLayer: { ${g.name}: 0 })`,
      );
    }
    const scores = r > 0 ? channelImportance(analysis, g, criterion) : null;
    importance.set(g, scores);
    if (scores !== null && keep < g.size) kept.set(g, topChannels(scores, keep));
  }
  const keptOf: KeptOf = (c) => {
    if (c === undefined) return null;
    const g = analysis.groupOf(c.space);
    const k = g === undefined ? undefined : kept.get(g);
    return k === undefined ? null : expandChannels(k, analysis.sizeOf(c.space), c.repeat);
  };
  const sizeOf = (c: TensorChannels): number => keptOf(c)?.length ?? c.repeat * analysis.sizeOf(c.space);

  const before = profile(model, profileOptions);
  const pruned = rebuild(model, analysis, keptOf, sizeOf);
  try {
    copyWeights(analysis, pruned, keptOf);
  } catch (e) {
    pruned.dispose();
    throw e;
  }
  const after = profile(pruned, profileOptions);
  const rowsOf = (p: typeof before) =>
    new Map(p.layers.map((l) => [l.name, { params: l.params, macs: l.macs }]));
  const rowsBefore = rowsOf(before);
  const rowsAfter = rowsOf(after);

  const groups = analysis.groups.map((g): PruneGroupReport => {
    const layers = [...new Set([...g.producers, ...g.members, ...g.consumers])];
    const b = countsOf(rowsBefore, layers);
    const a = countsOf(rowsAfter, layers);
    const k = kept.get(g) ?? Array.from({ length: g.size }, (_, i) => i);
    const scores = importance.get(g);
    return {
      name: g.name,
      layers,
      ratio: ratios.get(g) as number,
      channelsBefore: g.size,
      channelsAfter: k.length,
      kept: k,
      importance: scores === null || scores === undefined ? null : Array.from(scores),
      paramsBefore: b.params,
      paramsAfter: a.params,
      macsBefore: b.macs,
      macsAfter: a.macs,
    };
  });
  return {
    model: pruned,
    report: {
      criterion,
      groups,
      total: {
        paramsBefore: before.total.params,
        paramsAfter: after.total.params,
        macsBefore: before.total.macs,
        macsAfter: after.total.macs,
      },
    },
  };
}
