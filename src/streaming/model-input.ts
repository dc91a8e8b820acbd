/**
 * What a streaming detector needs to know about a classifier: the layout of its input window
 * and the number of classes it scores.
 *
 * @packageDocumentation
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { KwsError } from '../errors.js';

/** Input and output geometry of a keyword classifier. */
export interface ModelGeometry {
  /** 3 for `[batch, frames, bins]` input, 4 for `[batch, frames, bins, 1]`. */
  rank: 3 | 4;
  /** Frames per example the model requires, or null when it takes any number. */
  frames: number | null;
  /** Feature bins (mel bands) per frame. */
  bins: number;
  /** Scores per example: the output is `[batch, classes]`. */
  classes: number;
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/**
 * Reads the geometry of a tfjs-layers model that maps log-mel windows `[batch, frames, bins]`
 * (or `[batch, frames, bins, 1]`) to one score vector `[batch, classes]`.
 *
 * @throws KwsError `INVALID_ARGUMENT` when `model` is not a tfjs-layers model, `MODEL_INVALID`
 *   when it has several inputs or outputs or other shapes.
 */
export function describeModel(model: LayersModel): ModelGeometry {
  const m = model as unknown as Partial<LayersModel> | null;
  if (m === null || typeof m !== 'object' || typeof m.predict !== 'function' || !Array.isArray(m.inputs)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'model must be a tfjs-layers LayersModel (tf.model / tf.sequential)',
    );
  }
  if (m.inputs.length !== 1 || !Array.isArray(m.outputs) || m.outputs.length !== 1) {
    throw new KwsError(
      'MODEL_INVALID',
      `model must have one input and one output; it has ${m.inputs.length} and ${m.outputs?.length ?? 0}`,
    );
  }
  const input = m.inputs[0]?.shape ?? [];
  const output = m.outputs[0]?.shape ?? [];
  const [, frames, bins, channels] = input;
  const validInput =
    (input.length === 3 || (input.length === 4 && channels === 1)) &&
    (frames === null || isPositiveInt(frames)) &&
    isPositiveInt(bins);
  if (!validInput) {
    throw new KwsError(
      'MODEL_INVALID',
      `model input must be [batch, frames, bins] or [batch, frames, bins, 1]; got [${input.join(', ')}]`,
    );
  }
  const classes = output[1];
  if (output.length !== 2 || !isPositiveInt(classes)) {
    throw new KwsError(
      'MODEL_INVALID',
      `model output must be [batch, classes] scores; got [${output.join(', ')}]`,
    );
  }
  return { rank: input.length === 3 ? 3 : 4, frames: frames ?? null, bins: bins as number, classes };
}
