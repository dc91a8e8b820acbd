/**
 * A corrected gradient for tfjs's `Unpack` kernel (`tf.unstack`), which tfjs-layers' recurrent
 * layers use to split a sequence into time steps.
 *
 * tfjs-core 4.22's gradient stacks the incoming gradients with `stack(dy, axis)`, expecting an
 * array; when the unstacked axis has length 1 the tape hands it a single tensor instead, `stack`
 * throws ("Argument tensors passed to stack must be a `Tensor[]`") halfway through the backward
 * pass and the tape's intermediate tensors leak. A GRU over a one-step sequence hits this: the
 * default `crnn()` on inputs of 20–27 frames, whose convolution leaves a single time step.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

const OURS = Symbol.for('kws-kit.unpack-gradient');

const unpackGradConfig: tf.GradConfig = {
  kernelName: 'Unpack',
  gradFunc: (dy, _saved, attrs) => {
    const parts = Array.isArray(dy) ? dy : [dy];
    const { axis } = attrs as { axis: number };
    return { value: () => tf.stack(parts, axis) };
  },
};

/**
 * Replaces tfjs-core's `Unpack` gradient by one that also takes a single gradient tensor (a
 * length-1 axis). Same values otherwise. Global to the tfjs instance, like every tfjs gradient;
 * idempotent.
 *
 * @returns true if this call installed the gradient, false if it was already installed.
 */
export function registerUnpackGradient(): boolean {
  const existing = tf.getGradient('Unpack') as unknown as Record<symbol, unknown> | undefined;
  if (existing?.[OURS] === true) return false;
  tf.registerGradient(Object.assign({}, unpackGradConfig, { [OURS]: true }));
  return true;
}
