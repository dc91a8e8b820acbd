/**
 * The graph of a conv keyword model as {@link compileConvNet} and `toStreaming` read it: the
 * model's input and each layer's single call.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';
import { invalidLayer } from './folded-norm.js';

/**
 * Input geometry of a conv keyword model (see {@link convModelInput}).
 *
 * @internal
 */
export interface ConvInput {
  /** The model's input tensor. */
  readonly tensor: tfl.SymbolicTensor;
  /** 3 for `[batch, frames, bins]`, 4 for `[batch, frames, bins, 1]`. */
  readonly rank: 3 | 4;
  /** Frames per example, or null when the model takes any number. */
  readonly frames: number | null;
  /** Feature bins per frame. */
  readonly bins: number;
}

/**
 * Checks that `model` has one input and one output and that its input is `[batch, frames,
 * bins]` or `[batch, frames, bins, 1]` with known bins, and returns that geometry.
 *
 * @param caller - the function named in error messages
 * @throws KwsError `MODEL_INVALID` otherwise
 * @internal
 */
export function convModelInput(model: tfl.LayersModel, caller: string): ConvInput {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new KwsError(
      'MODEL_INVALID',
      `${caller} needs a model with one input and one output; "${model.name}" has ` +
        `${model.inputs.length} and ${model.outputs.length}`,
    );
  }
  const tensor = model.inputs[0] as tfl.SymbolicTensor;
  const shape = tensor.shape;
  const frames = shape[1];
  const bins = shape[2];
  if (
    (shape.length !== 3 && !(shape.length === 4 && shape[3] === 1)) ||
    typeof bins !== 'number' ||
    !(frames === null || typeof frames === 'number')
  ) {
    throw new KwsError(
      'MODEL_INVALID',
      `${caller} needs an input [batch, frames, bins] or [batch, frames, bins, 1]; got [${shape.join(', ')}]`,
    );
  }
  return { tensor, rank: shape.length === 3 ? 3 : 4, frames: frames ?? null, bins };
}

/**
 * One call of a layer (a tfjs-layers inbound node): its input and output tensors.
 *
 * @internal
 */
export type LayerCall = tfl.layers.Layer['inboundNodes'][number];

/**
 * The only call (inbound node) of `layer`, which must have one output.
 *
 * @param caller - the function named in error messages
 * @throws KwsError `MODEL_INVALID` for a layer called several times (shared) or with several
 *   outputs
 * @internal
 */
export function singleCall(layer: tfl.layers.Layer, caller: string): LayerCall {
  const nodes = layer.inboundNodes;
  const node = nodes[0];
  if (nodes.length !== 1 || node === undefined) {
    throw invalidLayer(layer, `is called ${nodes.length} times; ${caller} does not support shared layers`);
  }
  if (node.outputTensors.length !== 1) throw invalidLayer(layer, 'has several outputs');
  return node;
}
