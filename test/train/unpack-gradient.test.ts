import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-layers registers tfjs-core's gradients.
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerUnpackGradient } from '../../src/train/unpack-gradient.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** d/dx of Σ_k Σ unstack(x, axis)[k] · w_k, with w_k = k + 1 + the element index / 10. */
function unstackGrad(x: tf.Tensor, axis: number): Float32Array {
  return tf.tidy(() => {
    const g = tf.grad((t: tf.Tensor) => {
      const parts = tf.unstack(t, axis);
      const terms = parts.map((p, k) =>
        tf.sum(tf.mul(p, tf.add(tf.div(tf.reshape(tf.range(0, p.size), p.shape), 10), k + 1))),
      );
      return tf.addN(terms);
    })(x);
    return g.dataSync() as Float32Array;
  });
}

describe('registerUnpackGradient', () => {
  it("fixes tfjs' gradient of unstack over a length-1 axis and keeps the others", () => {
    const one = tf.tensor3d([1, 2, 3, 4, 5, 6], [2, 1, 3]);
    const three = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 3, 2]);
    // tfjs' own gradient hands stack() a lone tensor for a one-element unstack (unless a test
    // file that ran earlier in this thread already installed the fix: the registry is global).
    const ours = Symbol.for('kws-kit.unpack-gradient');
    const installed = (tf.getGradient('Unpack') as unknown as Record<symbol, unknown>)[ours] === true;
    if (!installed) expect(() => unstackGrad(one, 1)).toThrow(/stack/);
    expect(registerUnpackGradient()).toBe(!installed);
    expect(registerUnpackGradient()).toBe(false);
    // Axis 1 of [2, 1, 3]: one part [2, 3] with weight 1 + index / 10.
    expect(Array.from(unstackGrad(one, 1))).toEqual([1, 1.1, 1.2, 1.3, 1.4, 1.5].map(Math.fround));
    // Axis 1 of [1, 3, 2]: parts k = 0, 1, 2 of shape [1, 2], weights k + 1 + index / 10.
    expect(Array.from(unstackGrad(three, 1))).toEqual([1, 1.1, 2, 2.1, 3, 3.1].map(Math.fround));
    tf.dispose([one, three]);
  });
});
