/**
 * Worker-thread body for bench/train-parallel.ts: times the compiled training step of a fresh
 * BC-ResNet-1 on 50 examples in a thread that does nothing else (no messages with buffers, no
 * tfjs model work), the floor a gradient worker's own step time is compared with. Replies with the
 * median of `steps` timed steps after 3 warm-up steps, in ms.
 */
import '@tensorflow/tfjs-backend-wasm';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { bcResNet } from '../../src/models/bc-resnet.js';
import { compileTrainingGraph } from '../../src/train/compiled/graph.js';

const { features, labels, steps } = workerData as {
  features: Float32Array;
  labels: Int32Array;
  steps: number;
};
await tf.setBackend('wasm');
const model = bcResNet({ width: 1, numClasses: 12, seed: 1 });
const graph = compileTrainingGraph(model, { frames: 101 });
const times: number[] = [];
for (let s = 0; s < steps + 3; s++) {
  const t0 = performance.now();
  graph.lossAndGradients(features, labels, labels.length);
  if (s >= 3) times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
model.dispose();
parentPort?.postMessage(times[Math.floor(times.length / 2)]);
