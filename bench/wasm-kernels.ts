/**
 * Speed of kws-kit's wasm gradient kernels (registerWasmTrainingKernels) against the same kernels
 * on the cpu backend, for BC-ResNet-sized shapes (input [batch, 101 frames, mels, channels]).
 * Prints a table (median ms per kernel call); writes nothing.
 *
 *   npx tsx bench/wasm-kernels.ts [batch ...]     (default batches: 2 32)
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from '../src/train/index.js';

interface Case {
  name: string;
  kernel: string;
  inputs: (batch: number) => Record<string, tf.Tensor>;
  attrs: (batch: number) => Record<string, unknown>;
}

const rand = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', 7);

const cases: Case[] = [
  {
    name: 'stem conv 5x5/[1,2] same, 1→16: filter grad',
    kernel: 'Conv2DBackpropFilter',
    inputs: (n) => ({ x: rand([n, 101, 40, 1]), dy: rand([n, 101, 20, 16]) }),
    attrs: () => ({ strides: [1, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [5, 5, 1, 16] }),
  },
  {
    name: 'pointwise 1x1 16→16 on [101,20]: filter grad',
    kernel: 'Conv2DBackpropFilter',
    inputs: (n) => ({ x: rand([n, 101, 20, 16]), dy: rand([n, 101, 20, 16]) }),
    attrs: () => ({ strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 16, 16] }),
  },
  {
    name: 'conv 3x3 same 16→16 on [101,20]: filter grad',
    kernel: 'Conv2DBackpropFilter',
    inputs: (n) => ({ x: rand([n, 101, 20, 16]), dy: rand([n, 101, 20, 16]) }),
    attrs: () => ({ strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 16] }),
  },
  {
    name: 'conv 3x3 same 16→16 on [101,20]: input grad (stock wasm)',
    kernel: 'Conv2DBackpropInput',
    inputs: (n) => ({ dy: rand([n, 101, 20, 16]), filter: rand([3, 3, 16, 16]) }),
    attrs: (n) => ({ strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [n, 101, 20, 16] }),
  },
  {
    name: 'depthwise 1x3 (frequency) same, 16 ch on [101,20]: input grad',
    kernel: 'DepthwiseConv2dNativeBackpropInput',
    inputs: (n) => ({ dy: rand([n, 101, 20, 16]), filter: rand([1, 3, 16, 1]) }),
    attrs: (n) => ({ strides: 1, pad: 'same', dilations: 1, inputShape: [n, 101, 20, 16] }),
  },
  {
    name: 'depthwise 1x3 (frequency) same, 16 ch on [101,20]: filter grad',
    kernel: 'DepthwiseConv2dNativeBackpropFilter',
    inputs: (n) => ({ x: rand([n, 101, 20, 16]), dy: rand([n, 101, 20, 16]) }),
    attrs: () => ({ strides: 1, pad: 'same', dilations: 1, filterShape: [1, 3, 16, 1] }),
  },
  {
    name: 'depthwise 3x1 (time) same, 16 ch on [101,20]: input grad',
    kernel: 'DepthwiseConv2dNativeBackpropInput',
    inputs: (n) => ({ dy: rand([n, 101, 20, 16]), filter: rand([3, 1, 16, 1]) }),
    attrs: (n) => ({ strides: 1, pad: 'same', dilations: 1, inputShape: [n, 101, 20, 16] }),
  },
  {
    name: 'depthwise 3x1 (time) same, 16 ch on [101,20]: filter grad',
    kernel: 'DepthwiseConv2dNativeBackpropFilter',
    inputs: (n) => ({ x: rand([n, 101, 20, 16]), dy: rand([n, 101, 20, 16]) }),
    attrs: () => ({ strides: 1, pad: 'same', dilations: 1, filterShape: [3, 1, 16, 1] }),
  },
  {
    name: 'depthwise 3x1 (time) same, 32 ch on [101,1]: input grad',
    kernel: 'DepthwiseConv2dNativeBackpropInput',
    inputs: (n) => ({ dy: rand([n, 101, 1, 32]), filter: rand([3, 1, 32, 1]) }),
    attrs: (n) => ({ strides: 1, pad: 'same', dilations: 1, inputShape: [n, 101, 1, 32] }),
  },
  {
    name: 'maxPool 2x2/2 on [101,40,16]: grad',
    kernel: 'MaxPoolGrad',
    inputs: (n) => {
      const input = rand([n, 101, 40, 16]);
      return { dy: rand([n, 51, 20, 16]), input, output: tf.maxPool(input as tf.Tensor4D, 2, 2, 'same') };
    },
    attrs: () => ({ filterSize: 2, strides: 2, pad: 'same' }),
  },
  {
    name: 'gather grad: 64·batch rows of 64 into 1000 segments',
    kernel: 'UnsortedSegmentSum',
    inputs: (n) => ({
      x: rand([64 * n, 64]),
      segmentIds: tf.tensor1d(
        Array.from({ length: 64 * n }, (_, i) => (i * 37) % 1000),
        'int32',
      ),
    }),
    attrs: () => ({ numSegments: 1000 }),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median ms of one kernel call (output read back, so lazy backends would be charged too). */
function time(c: Case, batch: number): number {
  const inputs = tf.tidy(() => c.inputs(batch));
  const attrs = c.attrs(batch) as unknown as tf.NamedAttrMap;
  const once = (): number => {
    const start = performance.now();
    const out = tf.engine().runKernel(c.kernel, inputs, attrs) as tf.Tensor;
    out.dataSync();
    const ms = performance.now() - start;
    out.dispose();
    return ms;
  };
  once();
  const runs: number[] = [];
  const deadline = performance.now() + 1500;
  // At least one timed call; slow cpu cases (seconds per call) stop there.
  do runs.push(once());
  while (runs.length < 15 && performance.now() < deadline);
  tf.dispose(Object.values(inputs));
  return median(runs);
}

async function main(): Promise<void> {
  tf.enableProdMode();
  const registered = registerWasmTrainingKernels();
  console.log(`registered on wasm: ${registered.join(', ')}`);
  const batches = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  for (const batch of batches.length > 0 ? batches : [2, 32]) {
    console.log(`\nbatch ${batch}: median ms per kernel call`);
    console.log(`${'case'.padEnd(66)} ${'wasm'.padStart(8)} ${'cpu'.padStart(8)}  speed-up`);
    for (const c of cases) {
      await tf.setBackend('wasm');
      const wasm = time(c, batch);
      await tf.setBackend('cpu');
      const cpu = time(c, batch);
      const ratio = (cpu / wasm).toFixed(1);
      console.log(
        `${c.name.padEnd(66)} ${wasm.toFixed(2).padStart(8)} ${cpu.toFixed(2).padStart(8)}  ${ratio}x`,
      );
    }
  }
}

await main();
