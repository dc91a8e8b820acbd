/**
 * Channel groups of a tfjs-layers model: the sets of channels that structured pruning must keep
 * or remove together.
 *
 * Every tensor's last axis is labelled with a channel space. A layer that computes new channels
 * from all of its input channels (Dense, Conv2D, a 1 → C `SpectralConv`, GRU units) starts a new
 * space; per-channel layers (normalisation, depthwise convolutions, activations, frequency or
 * time pooling, dropout) pass their input's space through; elementwise merges (Add, …) join the
 * spaces of their inputs into one. A group is one joined space: in BC-ResNet all blocks of a stage
 * share one group, because the residual and broadcast additions add channel c of every block to
 * channel c of the next, so the stage's transition 1×1 conv, every block's 1×1 conv (output
 * side), depthwise kernels and (Sub)BatchNorm parameters are pruned with one index set.
 *
 * A reshape that flattens the last two axes (`[…, M, C] → […, M·C]`, CRNN's conv → GRU step) keeps
 * the space with a repeat: the last axis is M copies of the C channels, channel-minor, so a
 * consumer's kernel rows `m·C + c` follow channel c. Spaces that reach a model input or output,
 * cross a layer the analysis does not know (a "barrier": its inputs and outputs are frozen, so its
 * weights never need slicing), or feed a softmax are fixed and cannot be pruned.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { checkLayersModel, isNestedModel, layerCalls } from './graph.js';

type Layer = tfl.layers.Layer;

/** A set of channels that structured pruning keeps or removes together. */
export interface ChannelGroup {
  /** Name of the group: the first layer, in execution order, that creates its channels. */
  name: string;
  /** Number of channels. */
  size: number;
  /**
   * Layers that create the channels, whose output-side weights are sliced: Dense/Conv2D kernel
   * columns and biases, a 1 → C SpectralConv's kernel, a GRU's gate columns for its units.
   */
  producers: string[];
  /**
   * Per-channel layers whose weights are sliced: normalisation parameters (BatchNormalization,
   * SubSpectralNorm), depthwise kernels (SpectralConv, TemporalConv).
   */
  members: string[];
  /**
   * Layers that read the channels through input-side weights (kernel rows: Dense, Conv2D, GRU,
   * AttentionPooling); a GRU's own recurrent rows are sliced as its producer.
   */
  consumers: string[];
}

/** Channel labelling of a tensor's last axis: `repeat` copies of `space`, channel-minor. */
export interface TensorChannels {
  space: number;
  repeat: number;
}

/** How the pruner treats a layer. */
export type ChannelRole = 'producer' | 'pass' | 'consumer-pass' | 'merge' | 'reshape' | 'barrier';

/** One layer of the analysed model. @internal */
export interface LayerChannels {
  layer: Layer;
  className: string;
  role: ChannelRole;
  inputs: TensorChannels[];
  outputs: TensorChannels[];
}

/** Result of {@link analyzeChannels}. @internal */
export interface ChannelAnalysis {
  /** Prunable groups, in execution order of their first producer. */
  groups: ChannelGroup[];
  /** Layers in execution order. */
  layers: LayerChannels[];
  /** Original size of a space. */
  sizeOf(space: number): number;
  /** The prunable group a space belongs to, or undefined for a fixed space. */
  groupOf(space: number): ChannelGroup | undefined;
}

/** Union-find over channel spaces, with a size and a fixed flag per root. */
class SpaceSet {
  private readonly parent: number[] = [];
  private readonly sizes: number[] = [];
  private readonly fixedRoots: boolean[] = [];

  create(size: number, fixed: boolean): number {
    const id = this.parent.length;
    this.parent.push(id);
    this.sizes.push(size);
    this.fixedRoots.push(fixed);
    return id;
  }

  find(a: number): number {
    let root = a;
    while (this.parent[root] !== root) root = this.parent[root] as number;
    // Path compression keeps later finds short on deep residual chains.
    let x = a;
    while (this.parent[x] !== root) {
      const next = this.parent[x] as number;
      this.parent[x] = root;
      x = next;
    }
    return root;
  }

  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    this.parent[rb] = ra;
    this.fixedRoots[ra] = (this.fixedRoots[ra] as boolean) || (this.fixedRoots[rb] as boolean);
  }

  fix(a: number): void {
    this.fixedRoots[this.find(a)] = true;
  }

  isFixed(a: number): boolean {
    return this.fixedRoots[this.find(a)] as boolean;
  }

  size(a: number): number {
    return this.sizes[this.find(a)] as number;
  }
}

/** Per-channel layers: output channel c depends on input channel c only. */
const PASS_CLASSES = new Set([
  'BatchNormalization',
  'SubSpectralNorm',
  'TemporalConv',
  'FrequencyMean',
  'ChannelDropout',
  'SeededDropout',
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'ThresholdedReLU',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'MaxPooling1D',
  'MaxPooling2D',
]);

const MERGE_CLASSES = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum']);

type Config = Record<string, unknown>;

function configOf(layer: Layer): Config {
  return layer.getConfig() as Config;
}

function shapeOf(t: tfl.SymbolicTensor): (number | null)[] {
  return t.shape.slice();
}

function lastDim(t: tfl.SymbolicTensor): number {
  const d = t.shape[t.shape.length - 1];
  return typeof d === 'number' ? d : 0;
}

/** Whether a per-channel layer really acts on the last axis (channels-last data, axis −1). */
function actsOnLastAxis(layer: Layer, rank: number): boolean {
  const c = configOf(layer);
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') return false;
  if (layer.getClassName() === 'BatchNormalization') {
    const axis = c.axis;
    return axis === -1 || axis === rank - 1;
  }
  return true;
}

function isSoftmax(layer: Layer): boolean {
  return configOf(layer).activation === 'softmax';
}

/** Whether a GRU is one the pruner can slice: no state outputs, not stateful. */
function plainGru(layer: Layer): boolean {
  const c = configOf(layer);
  return c.returnState !== true && c.stateful !== true;
}

/**
 * Labels every tensor of `model` with its channel space and returns the prunable groups.
 *
 * @throws KwsError `INVALID_ARGUMENT` if `model` is not a tfjs-layers model; `MODEL_INVALID` for
 *   a nested model or a layer called more than once (shared weights).
 * @internal
 */
export function analyzeChannels(model: tfl.LayersModel): ChannelAnalysis {
  const m = checkLayersModel('model', model, false);
  const spaces = new SpaceSet();
  const labels = new Map<number, TensorChannels>();
  const fresh = (t: tfl.SymbolicTensor, fixed: boolean): TensorChannels => {
    const c = { space: spaces.create(lastDim(t), fixed), repeat: 1 };
    labels.set(t.id, c);
    return c;
  };
  for (const t of m.inputs) fresh(t, true);

  const calls = layerCalls(m);
  const seen = new Set<Layer>();
  const layers: LayerChannels[] = [];
  for (const call of calls) {
    const { layer } = call;
    if (isNestedModel(layer)) {
      throw new KwsError(
        'MODEL_INVALID',
        `layer ${layer.name} is a nested model; pruning needs a flat model (rebuild it without nesting)`,
      );
    }
    if (seen.has(layer)) {
      throw new KwsError(
        'MODEL_INVALID',
        `layer ${layer.name} is called more than once (shared weights); pruning needs every layer called once`,
      );
    }
    seen.add(layer);
    const inputs = call.inputs.map((t) => labels.get(t.id) as TensorChannels);
    const className = layer.getClassName();
    const out0 = call.outputs[0] as tfl.SymbolicTensor;
    const in0 = inputs[0] as TensorChannels;
    const inTensor = call.inputs[0] as tfl.SymbolicTensor;
    let role: ChannelRole = 'barrier';
    let outputs: TensorChannels[] = [];
    const pass = (): TensorChannels[] => {
      for (const t of call.outputs) labels.set(t.id, in0);
      return call.outputs.map(() => in0);
    };

    if (call.inputs.length === 1 && call.outputs.length === 1) {
      if (className === 'Dense' || className === 'Conv2D') {
        const convOk = className === 'Dense' || in0.repeat === 1;
        if (convOk && actsOnLastAxis(layer, inTensor.rank)) {
          role = 'producer';
          outputs = [fresh(out0, isSoftmax(layer))];
        }
      } else if (className === 'GRU' && plainGru(layer)) {
        role = 'producer';
        outputs = [fresh(out0, false)];
      } else if (className === 'SpectralConv') {
        // A 1-channel or rank-3 (spectrogram) input makes a full 1 → C conv: a producer.
        if (inTensor.rank === 3 || lastDim(inTensor) === 1) {
          spaces.fix(in0.space);
          role = 'producer';
          outputs = [fresh(out0, false)];
        } else {
          role = 'pass';
          outputs = pass();
        }
      } else if (
        (PASS_CLASSES.has(className) && actsOnLastAxis(layer, inTensor.rank)) ||
        (className === 'Activation' && !isSoftmax(layer))
      ) {
        role = 'pass';
        outputs = pass();
      } else if (className === 'Reshape' || className === 'Flatten') {
        const merged = reshapeRepeat(shapeOf(inTensor), shapeOf(out0));
        if (merged !== null) {
          role = 'reshape';
          const label = { space: in0.space, repeat: in0.repeat * merged };
          labels.set(out0.id, label);
          outputs = [label];
        }
      }
    } else if (className === 'AttentionPooling' && call.inputs.length === 1) {
      // Output 0, the pooled Σ_t α_t·h_t, keeps the channels of h; output 1 (the weights) has none.
      role = 'consumer-pass';
      labels.set(out0.id, in0);
      outputs = [in0, ...call.outputs.slice(1).map((t) => fresh(t, true))];
    } else if (MERGE_CLASSES.has(className) && call.outputs.length === 1) {
      const sameLayout = inputs.every(
        (c, i) =>
          c.repeat === in0.repeat && lastDim(call.inputs[i] as tfl.SymbolicTensor) === lastDim(inTensor),
      );
      if (sameLayout) {
        role = 'merge';
        for (const c of inputs) spaces.union(in0.space, c.space);
        labels.set(out0.id, in0);
        outputs = [in0];
      }
    }
    if (role === 'barrier') {
      for (const c of inputs) spaces.fix(c.space);
      outputs = call.outputs.map((t) => fresh(t, true));
    }
    layers.push({ layer, className, role, inputs, outputs });
  }
  for (const t of m.outputs) spaces.fix((labels.get(t.id) as TensorChannels).space);

  const groups = new Map<number, ChannelGroup>();
  const groupAt = (space: number): ChannelGroup | undefined => {
    if (spaces.isFixed(space)) return undefined;
    const root = spaces.find(space);
    let g = groups.get(root);
    if (g === undefined) {
      g = { name: '', size: spaces.size(root), producers: [], members: [], consumers: [] };
      groups.set(root, g);
    }
    return g;
  };
  for (const l of layers) {
    const name = l.layer.name;
    const out = l.outputs[0];
    const inp = l.inputs[0];
    if (l.role === 'producer' && out !== undefined) {
      const g = groupAt(out.space);
      if (g !== undefined) {
        if (g.name === '') g.name = name;
        g.producers.push(name);
      }
    }
    if (l.role === 'pass' && out !== undefined && l.layer.weights.length > 0) {
      groupAt(out.space)?.members.push(name);
    }
    const consumes = l.role === 'consumer-pass' || (l.role === 'producer' && l.className !== 'SpectralConv');
    if (consumes && inp !== undefined) groupAt(inp.space)?.consumers.push(name);
  }
  const list = [...groups.values()].filter((g) => g.producers.length > 0);
  return {
    groups: list,
    layers,
    sizeOf: (space) => spaces.size(space),
    groupOf: (space) => (spaces.isFixed(space) ? undefined : groups.get(spaces.find(space))),
  };
}

/**
 * The factor by which a reshape multiplies the repeat of the last axis: M for `[…, M, C] →
 * […, M·C]` (and for a full flatten of `[M₁, …, C]`, their product), 1 for an identity, or null
 * for a reshape that moves channels elsewhere.
 */
function reshapeRepeat(input: (number | null)[], output: (number | null)[]): number | null {
  const inDims = input.slice(1);
  const outDims = output.slice(1);
  if (inDims.some((d) => d === null) || outDims.some((d) => d === null)) return null;
  const a = inDims as number[];
  const b = outDims as number[];
  // The output keeps a prefix of the input dims and merges the rest (channels last) into one.
  const kept = b.length - 1;
  if (kept < 0 || kept >= a.length) return null;
  for (let i = 0; i < kept; i++) if (a[i] !== b[i]) return null;
  const merged = a.slice(kept);
  const product = merged.reduce((p, d) => p * d, 1);
  if (product !== b[kept]) return null;
  return merged.slice(0, -1).reduce((p, d) => p * d, 1);
}

/**
 * The channel groups of `model` that structured pruning can shrink, with the layers whose weights
 * each group slices. Use the names as keys of `PruneOptions.perLayer`.
 *
 * @example
 * ```ts
 * for (const g of channelGroups(crnn())) console.log(g.name, g.size);
 * // crnn_conv 8, crnn_gru_1 64, crnn_gru_2 64
 * ```
 * @throws KwsError `INVALID_ARGUMENT` if `model` is not a tfjs-layers model; `MODEL_INVALID` for
 *   nested models or shared layers.
 */
export function channelGroups(model: tfl.LayersModel): ChannelGroup[] {
  return analyzeChannels(model).groups.map((g) => ({
    ...g,
    producers: [...g.producers],
    members: [...g.members],
    consumers: [...g.consumers],
  }));
}
