/**
 * How a split's `[n, frames, bins]` features are fed to a model: checks the model takes one
 * `[batch, frames, bins]` or `[batch, frames, bins, 1]` input and returns `[batch, classes]`.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';

/** What the training loop and evaluation need to know about a classifier. */
export interface ModelIo {
  /** Whether the input has a trailing channel axis of 1 (`[batch, frames, bins, 1]`). */
  channelAxis: boolean;
  /** Number of output classes. */
  classes: number;
}

function isLayersModel(model: unknown): model is tfl.LayersModel {
  return (
    typeof model === 'object' &&
    model !== null &&
    Array.isArray((model as tfl.LayersModel).inputs) &&
    Array.isArray((model as tfl.LayersModel).outputs) &&
    typeof (model as tfl.LayersModel).apply === 'function'
  );
}

/**
 * Checks `model` against a split of `frames × bins` features with `classes` labels.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` if `model` is not a one-input, one-output
 *   tfjs-layers model; `SHAPE_MISMATCH` if its input is not `[batch, frames, bins(, 1)]`
 *   (a `null` frame count accepts any) or its output is not `[batch, classes]`.
 */
export function checkModelIo(model: unknown, frames: number, bins: number, classes: number): ModelIo {
  if (!isLayersModel(model)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'model must be a tfjs-layers LayersModel (tfl.model or tfl.sequential)',
    );
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `model must have one input and one output; it has ${model.inputs.length} and ${model.outputs.length}`,
    );
  }
  const input = (model.inputs[0] as tfl.SymbolicTensor).shape;
  const output = (model.outputs[0] as tfl.SymbolicTensor).shape;
  const okRank = input.length === 3 || (input.length === 4 && input[3] === 1);
  if (!okRank || (input[1] !== null && input[1] !== frames) || input[2] !== bins) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `model input is [${input.map(String)}]; the data needs [null, ${frames}, ${bins}] or [null, ${frames}, ${bins}, 1]`,
    );
  }
  if (output.length !== 2 || output[1] !== classes) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `model output is [${output.map(String)}]; the data has ${classes} classes, so it must be [null, ${classes}]`,
    );
  }
  return { channelAxis: input.length === 4, classes };
}

/** `x` (`b·frames·bins` values) as the model's input tensor. */
export function inputTensor(
  x: Float32Array,
  b: number,
  frames: number,
  bins: number,
  io: ModelIo,
): tf.Tensor {
  return io.channelAxis ? tf.tensor4d(x, [b, frames, bins, 1]) : tf.tensor3d(x, [b, frames, bins]);
}
