import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers' Node bundle registers the gradient functions (tfjs-core alone has none).
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { createRng } from '../../src/random.js';
import { registerWasmTrainingKernels } from '../../src/train/index.js';

type Backend = 'cpu' | 'wasm';
interface Input {
  shape: number[];
  data: Float32Array;
}

function randomInput(shape: number[], seed: number, offset = 0): Input {
  const rng = createRng(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() + offset;
  return { shape, data };
}

/** Deterministic upstream gradient for an output of `size` values, so dy is not all ones. */
function upstream(size: number): Float32Array {
  const rng = createRng(12345);
  const r = new Float32Array(size);
  for (let i = 0; i < size; i++) r[i] = rng.normal();
  return r;
}

/** Gradients of `sum(f(...inputs) · r)` with respect to every input, computed on `backend`. */
async function gradsOn(
  backend: Backend,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly Input[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
    const loss = (...a: tf.Tensor[]): tf.Scalar => {
      const y = f(...a);
      return tf.sum(tf.mul(y, tf.tensor(upstream(y.size), y.shape)));
    };
    return tf
      .grads(loss)(xs)
      .map((g) => Float32Array.from(g.dataSync() as Float32Array));
  });
}

/** max |a − b| divided by max |b|: error relative to the gradient's scale. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let peak = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    peak = Math.max(peak, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  return worst / Math.max(peak, 1e-12);
}

async function expectParity(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: readonly Input[]): Promise<void> {
  const cpu = await gradsOn('cpu', f, inputs);
  const wasm = await gradsOn('wasm', f, inputs);
  for (let i = 0; i < cpu.length; i++) {
    expect(cpu[i]!.some((v) => v !== 0)).toBe(true);
    expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-4);
  }
}

let registered: string[] = [];

beforeAll(async () => {
  tf.enableProdMode();
  registered = registerWasmTrainingKernels();
  expect(await tf.setBackend('wasm')).toBe(true);
  await tf.ready();
});

describe('registerWasmTrainingKernels', () => {
  it('registers the five kernels once, then nothing', () => {
    expect([...registered].sort()).toEqual([
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'MaxPoolGrad',
      'UnsortedSegmentSum',
    ]);
    for (const name of registered) expect(tf.getKernel(name, 'wasm')).toBeDefined();
    expect(registerWasmTrainingKernels()).toEqual([]);
    expect(registerWasmTrainingKernels()).toEqual([]);
  });

  it('is harmless without the wasm backend package and completes the fix once it is loaded', () => {
    // A fresh process: tfjs-core + cpu only, then the wasm package imported afterwards.
    const src = fileURLToPath(new URL('../../src/train/index.ts', import.meta.url));
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import '@tensorflow/tfjs-backend-cpu';
      import '@tensorflow/tfjs-layers';
      const { registerWasmTrainingKernels } = await import(${JSON.stringify(src)});
      tf.enableProdMode();
      const first = registerWasmTrainingKernels();
      const g = tf.grad((w) => tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]), w, 1, 'same')))(tf.ones([3, 3, 1, 1]));
      const backend = tf.getBackend();
      await import('@tensorflow/tfjs-backend-wasm');
      const second = registerWasmTrainingKernels();
      const third = registerWasmTrainingKernels();
      await tf.setBackend('wasm');
      const h = tf.grad((w) => tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]), w, 1, 'same')))(tf.ones([3, 3, 1, 1]));
      console.log(JSON.stringify({ first, backend, g: Array.from(g.dataSync()), second, third,
        h: Array.from(h.dataSync()), now: tf.getBackend() }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(r.first).toEqual([
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'UnsortedSegmentSum',
    ]);
    expect(r.backend).toBe('cpu');
    // dL/dw[kh,kw] of a 3x3 'same' conv over a 4x4 image of ones = number of pixels the tap sees.
    const taps = [9, 12, 9, 12, 16, 12, 9, 12, 9];
    expect(r.g).toEqual(taps);
    expect(r.second).toEqual(['MaxPoolGrad']);
    expect(r.third).toEqual([]);
    expect(r.now).toBe('wasm');
    expect(r.h).toEqual(taps);
  });
});

describe('conv2d gradients on wasm equal cpu', () => {
  const cases: [
    string,
    number[],
    number[],
    [number, number] | number,
    tf.backend_util.ExplicitPadding | 'same' | 'valid',
  ][] = [
    ['BC-ResNet stem 5x5 stride [1,2] same', [2, 101, 40, 1], [5, 5, 1, 16], [1, 2], 'same'],
    ['1x1 pointwise', [2, 101, 20, 16], [1, 1, 16, 16], 1, 'valid'],
    ['3x3 stride 2 valid', [2, 9, 11, 3], [3, 3, 3, 4], 2, 'valid'],
    ['3x3 stride 2 same, even size', [3, 8, 10, 2], [3, 3, 2, 5], 2, 'same'],
    [
      'explicit padding 3x2 stride [2,1]',
      [2, 7, 6, 2],
      [3, 2, 2, 3],
      [2, 1],
      [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
    ],
    ['CRNN conv 20x5 stride [8,2] valid', [2, 101, 40, 1], [20, 5, 1, 8], [8, 2], 'valid'],
  ];
  for (const [name, xShape, wShape, strides, pad] of cases) {
    it(name, async () => {
      await expectParity(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad as 'same'),
        [randomInput(xShape, 1), randomInput(wShape, 2)],
      );
    });
  }

  it('conv1d, fused conv2d with bias + relu, separable conv', async () => {
    await expectParity(
      (x, w) => tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, 2, 'same'),
      [randomInput([2, 30, 3], 3), randomInput([5, 3, 4], 4)],
    );
    await expectParity(
      (x, w, b) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias: b,
          activation: 'relu',
        }),
      [randomInput([2, 6, 5, 2], 5), randomInput([3, 3, 2, 4], 6), randomInput([4], 7)],
    );
    await expectParity(
      (x, dw, pw) =>
        tf.separableConv2d(x as tf.Tensor4D, dw as tf.Tensor4D, pw as tf.Tensor4D, [1, 2], 'same'),
      [randomInput([2, 7, 8, 3], 8), randomInput([3, 3, 3, 2], 9), randomInput([1, 1, 6, 4], 10)],
    );
  });

  it('splits large batches into chunks and still sums every image', async () => {
    // 101x40 stem with 5x5 taps: 4 Mi floats hold 41 images of im2col, so 45 images take two chunks.
    await expectParity(
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
      [randomInput([45, 101, 40, 1], 11), randomInput([5, 5, 1, 2], 12)],
    );
  });
});

describe('depthwiseConv2d gradients on wasm equal cpu', () => {
  const cases: [
    string,
    number[],
    number[],
    [number, number] | number,
    tf.backend_util.ExplicitPadding | 'same' | 'valid',
  ][] = [
    ['BC-ResNet frequency 3x1 same', [2, 101, 20, 16], [3, 1, 16, 1], 1, 'same'],
    ['1x3 same', [2, 101, 20, 16], [1, 3, 16, 1], 1, 'same'],
    ['temporal 3x1 after frequency pooling', [2, 101, 1, 16], [3, 1, 16, 1], 1, 'same'],
    ['3x3 stride 2 valid', [2, 9, 8, 5], [3, 3, 5, 1], 2, 'valid'],
    ['3x3 stride [2,1] same, multiplier 2', [2, 8, 7, 3], [3, 3, 3, 2], [2, 1], 'same'],
    ['3x3 valid (stride 1, multiplier 1)', [2, 9, 8, 4], [3, 3, 4, 1], 1, 'valid'],
    ['3x1 stride [2,1] valid', [2, 11, 6, 4], [3, 1, 4, 1], [2, 1], 'valid'],
    [
      'padding wider than the filter',
      [2, 6, 5, 3],
      [3, 2, 3, 1],
      1,
      [
        [0, 0],
        [3, 1],
        [0, 2],
        [0, 0],
      ],
    ],
    [
      'explicit padding, multiplier 3',
      [1, 6, 7, 2],
      [2, 3, 2, 3],
      [1, 2],
      [
        [0, 0],
        [2, 0],
        [1, 1],
        [0, 0],
      ],
    ],
  ];
  for (const [name, xShape, wShape, strides, pad] of cases) {
    it(name, async () => {
      await expectParity(
        (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad as 'same'),
        [randomInput(xShape, 21), randomInput(wShape, 22)],
      );
    });
  }

  it('fused depthwise with bias + relu', async () => {
    await expectParity(
      (x, w, b) =>
        tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias: b,
          activation: 'relu',
        }),
      [randomInput([2, 9, 5, 4], 23), randomInput([3, 1, 4, 1], 24), randomInput([4], 25)],
    );
  });
});

describe('pooling gradients on wasm equal cpu', () => {
  it('maxPool over all-negative windows (tfjs 4.22 wasm gets these wrong)', async () => {
    for (const [filter, strides, pad] of [
      [2, 2, 'same'],
      [[3, 3], 1, 'same'],
      [[3, 2], [2, 1], 'valid'],
    ] as const) {
      await expectParity(
        (x) => tf.maxPool(x as tf.Tensor4D, filter as [number, number], strides as [number, number], pad),
        [randomInput([2, 7, 6, 3], 31, -6)],
      );
    }
  });

  it('maxPool routes each gradient to the first maximum of its window', async () => {
    await tf.setBackend('wasm');
    const g = tf.tidy(() => {
      const x = tf.tensor4d([-3, -1, -1, -2], [1, 2, 2, 1]);
      return Array.from(
        tf
          .grad((t) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 1, 'valid')))(x)
          .dataSync(),
      );
    });
    expect(g).toEqual([0, 1, 0, 0]);
  });

  it('maxPool with positive values and avgPool', async () => {
    await expectParity(
      (x) => tf.maxPool(x as tf.Tensor4D, [3, 3], [2, 1], 'same'),
      [randomInput([2, 7, 6, 3], 32, 5)],
    );
    await expectParity(
      (x) => tf.avgPool(x as tf.Tensor4D, [3, 2], [1, 2], 'same'),
      [randomInput([2, 7, 6, 3], 33)],
    );
  });
});

describe('gather gradient (UnsortedSegmentSum) on wasm', () => {
  it('sums the gradients of repeated indices', async () => {
    await tf.setBackend('wasm');
    const g = tf.tidy(() => {
      const table = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
      const idx = tf.tensor1d([0, 2, 2, 3, 2], 'int32');
      const dy = tf.tensor2d([1, 10, 2, 20, 3, 30, 4, 40, 5, 50], [5, 2]);
      return Array.from(
        tf
          .grad((t) => tf.sum(tf.mul(tf.gather(t, idx), dy)))(table)
          .dataSync(),
      );
    });
    // Row 0 ← dy[0]; row 1 unused; row 2 ← dy[1] + dy[2] + dy[4]; row 3 ← dy[3].
    expect(g).toEqual([1, 10, 0, 0, 10, 100, 4, 40]);
  });

  it('matches cpu on axis 0 and axis 1 with repeats', async () => {
    const idx = [3, 0, 3, 1, 3];
    await expectParity((t) => tf.gather(t, tf.tensor1d(idx, 'int32'), 0), [randomInput([5, 3, 2], 41)]);
    await expectParity(
      (t) => tf.gather(t, tf.tensor2d([1, 1, 0, 2], [2, 2], 'int32'), 1),
      [randomInput([2, 3, 4], 42)],
    );
  });

  it('unsortedSegmentSum drops out-of-range ids like cpu', async () => {
    const run = async (backend: Backend): Promise<number[][]> => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const ids = tf.tensor1d([0, 2, -1, 2, 5], 'int32');
        const f = tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]), ids, 3);
        const i = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4, 5], 'int32'), ids, 3);
        // int32 in, int32 out as in TensorFlow (tfjs's cpu kernel happens to return float32).
        if (backend === 'wasm') expect(i.dtype).toBe('int32');
        return [Array.from(f.dataSync()), Array.from(i.dataSync())];
      });
    };
    const wasm = await run('wasm');
    // Segment 0 ← row 0; segment 1 gets nothing; segment 2 ← rows 1 and 3; ids -1 and 5 are dropped.
    expect(wasm).toEqual([
      [1, 2, 0, 0, 10, 12],
      [1, 0, 6],
    ]);
    expect(await run('cpu')).toEqual(wasm);
  });
});

describe('kernel contract on wasm', () => {
  it('leaks no tensors and no wasm heap tensors', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const step = (): void => {
      tf.tidy(() => {
        const x = tf.randomNormal([3, 12, 10, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
        const w = tf.randomNormal([3, 3, 4, 6], 0, 1, 'float32', 2) as tf.Tensor4D;
        const d = tf.randomNormal([3, 1, 6, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
        const table = tf.randomNormal([5, 6]);
        const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, t: tf.Tensor): tf.Scalar => {
          const y = tf.depthwiseConv2d(
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, [2, 1], 'same'),
            c as tf.Tensor4D,
            1,
            'same',
          );
          const p = tf.maxPool(tf.neg(tf.abs(y)), 2, 2, 'same');
          return tf.add(tf.sum(p), tf.sum(tf.gather(t, tf.tensor1d([1, 1, 4], 'int32'))));
        };
        for (const g of tf.grads(loss)([x, w, d, table])) g.dataSync();
      });
    };
    step(); // warm-up: lets tfjs create anything it caches
    // 45 images of the 101x40 stem exercise the chunked path of Conv2DBackpropFilter.
    const chunked = (): void => {
      tf.tidy(() => {
        const x = tf.randomNormal([45, 101, 40, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
        tf.grad((w) => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, 'same')))(tf.ones([5, 5, 1, 2])).dataSync();
      });
    };
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    step();
    chunked();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
  });

  it('rejects dilation > 1 and NCHW with a KwsError', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 5, 5, 2]);
    const dy = tf.ones([1, 5, 5, 2]);
    const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>): unknown =>
      tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap);
    const depthwise = { strides: 1, pad: 'same', filterShape: [3, 3, 2, 1] };
    expect(() =>
      run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...depthwise, dilations: 2 }),
    ).toThrow(KwsError);
    expect(() =>
      run(
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: tf.ones([3, 3, 2, 1]) },
        {
          strides: 1,
          pad: 'same',
          dilations: [1, 2],
          inputShape: [1, 5, 5, 2],
        },
      ),
    ).toThrow(/dilation 1 only/);
    expect(() =>
      run(
        'Conv2DBackpropFilter',
        { x, dy },
        { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] },
      ),
    ).toThrow(/NHWC/);
    expect(() =>
      run(
        'Conv2DBackpropFilter',
        { x, dy: tf.ones([1, 5, 5, 3]) },
        {
          strides: 1,
          pad: 'same',
          dataFormat: 'NHWC',
          filterShape: [3, 3, 2, 2],
        },
      ),
    ).toThrow(KwsError);
    tf.dispose([x, dy]);
  });
});

describe('training on wasm', () => {
  /** conv 3x3/[1,2] → batch norm (batch statistics) → relu → depthwise 3x1 → mean over (H, W) → dense. */
  async function trainLosses(backend: Backend): Promise<number[]> {
    await tf.setBackend(backend);
    // Variables survive tidy; the initial values and index tensors do not.
    const init = (shape: number[], seed: number, scale: number): tf.Variable =>
      tf.tidy(() => tf.variable(tf.mul(tf.tensor(randomInput(shape, seed).data, shape), scale)));
    const conv = init([3, 3, 1, 8], 51, 0.3);
    const gamma = tf.tidy(() => tf.variable(tf.ones([8])));
    const beta = tf.tidy(() => tf.variable(tf.zeros([8])));
    const dw = init([3, 1, 8, 1], 52, 0.5);
    const dense = init([8, 4], 53, 0.5);
    const bias = tf.tidy(() => tf.variable(tf.zeros([4])));
    const x = tf.tensor(randomInput([6, 16, 12, 1], 54).data, [6, 16, 12, 1]) as tf.Tensor4D;
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 1, 2], 'int32'), 4));
    const optimizer = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) {
      const loss = optimizer.minimize(() => {
        const h = tf.conv2d(x, conv as unknown as tf.Tensor4D, [1, 2], 'same');
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        const n = tf.relu(tf.batchNorm(h, mean, variance, beta, gamma, 1e-3)) as tf.Tensor4D;
        const d = tf.depthwiseConv2d(n, dw as unknown as tf.Tensor4D, 1, 'same');
        const pooled = tf.mean(d, [1, 2]) as tf.Tensor2D;
        const logits = tf.add(tf.matMul(pooled, dense), bias);
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
      }, true);
      losses.push(loss!.dataSync()[0]!);
      loss!.dispose();
    }
    optimizer.dispose();
    tf.dispose([conv, gamma, beta, dw, dense, bias, x, labels]);
    return losses;
  }

  it('adam steps give the same loss sequence as cpu', async () => {
    const before = tf.memory().numTensors;
    const cpu = await trainLosses('cpu');
    const wasm = await trainLosses('wasm');
    expect(cpu[5]!).toBeLessThan(cpu[0]!);
    for (let i = 0; i < cpu.length; i++) {
      expect(Math.abs(wasm[i]! - cpu[i]!) / Math.abs(cpu[i]!)).toBeLessThan(1e-4);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  /** tfjs-layers conv → BN → relu → depthwise → max pool → global average → softmax dense. */
  async function fitLosses(backend: Backend): Promise<number[]> {
    await tf.setBackend(backend);
    const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [16, 12, 1],
          filters: 6,
          kernelSize: [3, 3],
          strides: [1, 2],
          padding: 'same',
          kernelInitializer: glorot(1),
        }),
        tfl.layers.batchNormalization(),
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.depthwiseConv2d({ kernelSize: [3, 1], padding: 'same', depthwiseInitializer: glorot(2) }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: glorot(3) }),
      ],
    });
    const optimizer = tf.train.sgd(0.1);
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const x = tf.tensor(randomInput([8, 16, 12, 1], 61).data, [8, 16, 12, 1]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3));
    const history = await model.fit(x, y, { epochs: 4, batchSize: 4, shuffle: false, verbose: 0 });
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
    return history.history.loss as number[];
  }

  it('model.fit of a tfjs-layers conv net gives the same losses as cpu', async () => {
    const cpu = await fitLosses('cpu');
    const wasm = await fitLosses('wasm');
    expect(cpu[3]!).toBeLessThan(cpu[0]!);
    for (let i = 0; i < cpu.length; i++) {
      expect(Math.abs(wasm[i]! - cpu[i]!) / Math.abs(cpu[i]!)).toBeLessThan(1e-4);
    }
  });
});
