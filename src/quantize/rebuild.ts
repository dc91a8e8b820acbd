/**
 * Rebuilding a tfjs-layers model as a new functional model with some layers changed: layers
 * dropped (their input passes through), reconfigured or given new weights, and extra layers
 * inserted after chosen outputs. Batch-norm folding and quantization-aware training are both
 * such rewrites.
 *
 * Every layer is cloned from its class and configuration (so tfjs-layers' own classes and
 * kws-kit's registered custom layers work alike) and gets its own copy of the weights: the
 * source model is never changed and shares nothing with the result.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { registerKwsLayers } from '../models/index.js';
import { isNestedModel, type LayerCall, layerCalls, tapName } from './graph.js';

/** How one layer of the source model appears in the rebuilt one. */
export interface LayerRewrite {
  /** Leave the layer out: its single input tensor takes the place of its single output. */
  drop?: boolean;
  /** A new, unbuilt layer to apply instead of a clone (it must take the same inputs). */
  layer?: tfl.layers.Layer;
  /** Configuration entries that replace the layer's own (e.g. `{ useBias: true }`). */
  config?: Record<string, unknown>;
  /**
   * New weight values by weight name (`kernel`, `bias`, ...; the part after the last `/`),
   * shaped as the rebuilt layer's weights. Weights not listed keep the source layer's values.
   */
  weights?: Map<string, Float32Array>;
}

/** A layer output of the rebuilt model, offered to {@link RebuildPlan.afterOutput}. */
export interface RebuiltOutput {
  /** The rebuilt tensor. */
  tensor: tfl.SymbolicTensor;
  /** The matching tensor of the source model. */
  source: tfl.SymbolicTensor;
  /** Tap name in the source model (layer name, `name:i`, or the input layer's name). */
  tap: string;
  /** Name of the producing layer (the input layer for the model input). */
  layer: string;
  /** Class of the producing layer (`InputLayer` for the model input). */
  className: string;
}

/** What to change; every entry optional. */
export interface RebuildPlan {
  /** The rewrite of a layer call, or undefined to clone it unchanged. */
  rewrite?(call: LayerCall): LayerRewrite | undefined;
  /** A tensor to use in place of a rebuilt output (e.g. the output of an inserted layer). */
  afterOutput?(output: RebuiltOutput): tfl.SymbolicTensor;
  /** Name of the rebuilt model. Default: the source model's name. */
  name?: string;
}

/** A fresh, unbuilt layer of the same class with the configuration changed by `overrides`. */
export function cloneLayerWith(
  layer: tfl.layers.Layer,
  overrides: Record<string, unknown> = {},
): tfl.layers.Layer {
  const className = layer.getClassName();
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) {
    throw new KwsError(
      'MODEL_INVALID',
      `layer ${layer.name} has class ${className}, which is not registered for serialisation; register it with tf.serialization.registerClass`,
    );
  }
  const [cls, fromConfig] = entry;
  const config = { ...layer.getConfig(), ...overrides } as tf.serialization.ConfigDict;
  return fromConfig(cls, config) as unknown as tfl.layers.Layer;
}

/** The weight name within its layer: `stem_conv/kernel` → `kernel`. */
export function shortWeightName(originalName: string): string {
  return originalName.slice(originalName.lastIndexOf('/') + 1);
}

function copyWeights(
  source: tfl.layers.Layer,
  clone: tfl.layers.Layer,
  given?: Map<string, Float32Array>,
): void {
  const targets = clone.weights;
  if (targets.length === 0) return;
  const byName = new Map(source.weights.map((w) => [w.originalName.replace(/^[^/]*\//, ''), w]));
  const values = tf.tidy(() =>
    targets.map((t) => {
      const shape = t.shape as number[];
      const short = shortWeightName(t.originalName);
      const fresh = given?.get(short);
      if (fresh !== undefined) {
        if (fresh.length !== shape.reduce((a, b) => a * b, 1)) {
          throw new KwsError(
            'MODEL_INVALID',
            `new values for ${t.originalName} do not fit its shape [${shape}]`,
          );
        }
        return tf.tensor(fresh, shape, 'float32');
      }
      const w = byName.get(t.originalName.replace(/^[^/]*\//, ''));
      if (w === undefined || w.shape.join() !== shape.join()) {
        throw new KwsError(
          'MODEL_INVALID',
          `layer ${source.name} could not be rebuilt: no source weight matches ${t.originalName} [${shape}]`,
        );
      }
      return tf.clone(w.read());
    }),
  );
  try {
    clone.setWeights(values);
  } finally {
    tf.dispose(values);
  }
}

/**
 * A new functional model computing `model` with the changes of `plan` (see the module
 * documentation). The result owns its weights; dispose it when done.
 *
 * @throws KwsError `MODEL_INVALID` for nested models, unregistered layer classes, or a dropped
 *   layer that does not have exactly one input and one output.
 */
export function rebuildModel(model: tfl.LayersModel, plan: RebuildPlan = {}): tfl.LayersModel {
  registerKwsLayers();
  const calls = layerCalls(model);
  for (const call of calls) {
    if (isNestedModel(call.layer)) {
      throw new KwsError(
        'MODEL_INVALID',
        `layer ${call.layer.name} is a nested model; only flat Sequential or functional models can be rebuilt`,
      );
    }
  }
  const after = plan.afterOutput ?? ((o: RebuiltOutput) => o.tensor);
  const mapped = new Map<number, tfl.SymbolicTensor>();
  const inputs = model.inputs.map((t) => {
    const input = tfl.input({ batchShape: t.shape, dtype: t.dtype, name: t.sourceLayer.name });
    const name = t.sourceLayer.name;
    mapped.set(t.id, after({ tensor: input, source: t, tap: name, layer: name, className: 'InputLayer' }));
    return input;
  });
  const clones = new Map<
    tfl.layers.Layer,
    { clone: tfl.layers.Layer; weights?: Map<string, Float32Array> }
  >();
  for (const call of calls) {
    const rewrite = plan.rewrite?.(call);
    const ins = call.inputs.map((t) => mapped.get(t.id) as tfl.SymbolicTensor);
    if (rewrite?.drop === true) {
      if (ins.length !== 1 || call.outputs.length !== 1) {
        throw new KwsError(
          'MODEL_INVALID',
          `layer ${call.layer.name} cannot be dropped: it has several inputs or outputs`,
        );
      }
      mapped.set((call.outputs[0] as tfl.SymbolicTensor).id, ins[0] as tfl.SymbolicTensor);
      continue;
    }
    let entry = clones.get(call.layer);
    if (entry === undefined) {
      entry = { clone: rewrite?.layer ?? cloneLayerWith(call.layer, rewrite?.config) };
      if (rewrite?.weights !== undefined) entry.weights = rewrite.weights;
      clones.set(call.layer, entry);
    }
    const out = entry.clone.apply(ins.length === 1 ? (ins[0] as tfl.SymbolicTensor) : ins, call.callArgs);
    const outs = [out].flat() as tfl.SymbolicTensor[];
    call.outputs.forEach((t, i) => {
      mapped.set(
        t.id,
        after({
          tensor: outs[i] as tfl.SymbolicTensor,
          source: t,
          tap: tapName(call.layer.name, i, call.outputs.length),
          layer: call.layer.name,
          className: call.layer.getClassName(),
        }),
      );
    });
  }
  for (const [layer, { clone, weights }] of clones) copyWeights(layer, clone, weights);
  return tfl.model({
    inputs,
    outputs: model.outputs.map((t) => mapped.get(t.id) as tfl.SymbolicTensor),
    name: plan.name ?? model.name,
  });
}
