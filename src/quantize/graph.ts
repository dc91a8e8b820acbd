/**
 * The layer graph of a tfjs-layers model as a list of calls in execution order, and the "taps"
 * (named layer outputs) that calibration, simulation and the SQNR report share.
 *
 * A tap is named after the layer that produces it: the layer name for a single-output layer,
 * `name:i` for output i of a multi-output layer (e.g. AttentionPooling with its weights), and the
 * input layer's name for a model input.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

/** One application of a layer inside a model. */
export interface LayerCall {
  layer: Layer;
  /** Symbolic inputs of the call. */
  inputs: SymbolicTensor[];
  /** Symbolic outputs of the call (all of them, used downstream or not). */
  outputs: SymbolicTensor[];
  /** Keyword arguments the layer was called with (e.g. `training`, `mask`). */
  callArgs: Record<string, unknown>;
}

/** Whether a layer is itself a model (a nested Sequential or functional model). */
export function isNestedModel(layer: unknown): boolean {
  const m = layer as { inputs?: unknown; outputs?: unknown; layers?: unknown };
  return Array.isArray(m.inputs) && Array.isArray(m.outputs) && Array.isArray(m.layers);
}

/**
 * Checks that `model` is a built tfjs-layers model with one input and returns it.
 *
 * @throws KwsError `INVALID_ARGUMENT` for anything else, `MODEL_INVALID` for an unbuilt model.
 */
export function checkLayersModel(name: string, model: unknown, singleInput = true): tfl.LayersModel {
  const m = model as { getClassName?: unknown; predict?: unknown };
  if (
    typeof model !== 'object' ||
    model === null ||
    !isNestedModel(model) ||
    typeof m.getClassName !== 'function' ||
    typeof m.predict !== 'function'
  ) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be a tfjs-layers LayersModel (tfl.sequential or tfl.model)`,
    );
  }
  const lm = model as tfl.LayersModel;
  if (lm.inputs.length === 0 || lm.outputs.length === 0) {
    throw new KwsError(
      'MODEL_INVALID',
      `${name} has no inputs or outputs yet (give its first layer an inputShape)`,
    );
  }
  if (singleInput && lm.inputs.length !== 1) {
    throw new KwsError(
      'MODEL_INVALID',
      `${name} has ${lm.inputs.length} inputs; only single-input models are supported`,
    );
  }
  return lm;
}

/**
 * The layer calls of `model` in an order in which every call's inputs are computed before it
 * (a depth-first post-order from the outputs). Model inputs are not calls.
 */
export function layerCalls(model: tfl.LayersModel): LayerCall[] {
  const inputIds = new Set(model.inputs.map((t) => t.id));
  const done = new Set<number>();
  const calls: LayerCall[] = [];
  const visit = (root: SymbolicTensor): void => {
    const stack: { t: SymbolicTensor; expanded: boolean }[] = [{ t: root, expanded: false }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { t: SymbolicTensor; expanded: boolean };
      const { t } = frame;
      if (done.has(t.id) || inputIds.has(t.id)) {
        stack.pop();
        continue;
      }
      const node = t.sourceLayer.inboundNodes[t.nodeIndex];
      if (node === undefined) {
        throw new KwsError(
          'MODEL_INVALID',
          `tensor ${t.name} has no producing node in layer ${t.sourceLayer.name}`,
        );
      }
      if (!frame.expanded) {
        frame.expanded = true;
        for (let i = node.inputTensors.length - 1; i >= 0; i--) {
          const input = node.inputTensors[i] as SymbolicTensor;
          if (!done.has(input.id) && !inputIds.has(input.id)) stack.push({ t: input, expanded: false });
        }
        continue;
      }
      stack.pop();
      if (node.inputTensors.length === 0) {
        throw new KwsError(
          'MODEL_INVALID',
          `tensor ${t.name} comes from layer ${t.sourceLayer.name}, which is not connected to the model inputs`,
        );
      }
      for (const o of node.outputTensors) done.add(o.id);
      calls.push({
        layer: t.sourceLayer,
        inputs: node.inputTensors.slice(),
        outputs: node.outputTensors.slice(),
        callArgs: { ...((node.callArgs as Record<string, unknown> | undefined) ?? {}) },
      });
    }
  };
  for (const output of model.outputs) visit(output);
  return calls;
}

/** Name of output `index` of a call with `count` outputs (see the module documentation). */
export function tapName(layerName: string, index: number, count: number): string {
  return count === 1 ? layerName : `${layerName}:${index}`;
}

/** A named tensor of the graph: a model input or one output of a call. */
export interface Tap {
  /** Tap name (see the module documentation). */
  name: string;
  /** Name of the producing layer (the input layer for a model input). */
  layer: string;
  /** Class of the producing layer (`InputLayer` for a model input). */
  className: string;
  /** Output index within the call. */
  output: number;
  /** The producing layer (the input layer for a model input). */
  source: Layer;
  /** The symbolic tensor. */
  tensor: SymbolicTensor;
  /** Whether this is a model input. */
  isInput: boolean;
}

/** Every tap of a model: its inputs, then every output of every call, in execution order. */
export function modelTaps(model: tfl.LayersModel, calls: readonly LayerCall[] = layerCalls(model)): Tap[] {
  const taps: Tap[] = model.inputs.map((t) => ({
    name: t.sourceLayer.name,
    layer: t.sourceLayer.name,
    className: 'InputLayer',
    output: 0,
    source: t.sourceLayer,
    tensor: t,
    isInput: true,
  }));
  for (const call of calls) {
    call.outputs.forEach((t, i) => {
      taps.push({
        name: tapName(call.layer.name, i, call.outputs.length),
        layer: call.layer.name,
        className: call.layer.getClassName(),
        output: i,
        source: call.layer,
        tensor: t,
        isInput: false,
      });
    });
  }
  return taps;
}

/**
 * A function that runs `model` on a batch and returns the values of `taps` (float32 taps; other
 * dtypes give an empty array), leaving no tensors behind. Input taps read the batch itself. The
 * reader is a second model over the same layers (no weights of its own): never dispose it.
 */
export function tapReader(
  model: tfl.LayersModel,
  taps: readonly Tap[],
): (batch: tf.Tensor) => Float32Array[] {
  // tfjs-layers rejects a model listing one output twice: read each tensor once.
  const unique: tfl.SymbolicTensor[] = [];
  const slot = new Map<number, number>();
  for (const t of taps) {
    if (t.isInput || slot.has(t.tensor.id)) continue;
    slot.set(t.tensor.id, unique.length);
    unique.push(t.tensor);
  }
  const probe =
    unique.length === 0
      ? null
      : tfl.model({ inputs: model.inputs, outputs: unique, name: `${model.name}_taps` });
  return (batch) => {
    const outs = probe === null ? [] : tf.tidy(() => [probe.predict(batch)].flat() as tf.Tensor[]);
    try {
      return taps.map((t) => {
        const tensor = t.isInput ? batch : (outs[slot.get(t.tensor.id) as number] as tf.Tensor);
        return tensor.dtype === 'float32' ? (tensor.dataSync() as Float32Array) : new Float32Array(0);
      });
    } finally {
      tf.dispose(outs);
    }
  };
}
