/**
 * Entry point of a gradient worker thread (data-parallel training, `train(model, { workers })`).
 *
 * A worker has its own tfjs instance: it starts the main thread's backend (`cpu` or `wasm`, with
 * kws-kit's wasm gradient kernels), registers kws-kit's layer classes and rebuilds the model from
 * its JSON topology once. Then, per step, it takes the current weights and one shard of the
 * batch, and returns the shard's gradient, the updated non-trainable weights (batch-norm moving
 * statistics) and its seeded layers' generator states. See `protocol.ts` for the messages.
 *
 * Calling `setBackend` here is this thread's own business: the library never changes the
 * backend of the caller's thread.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { registerBatchNormGradient, registerKwsLayers } from '../../models/index.js';
import { nodeBuiltin } from '../../node-builtins.js';
import { compiledGradients } from '../compiled/engine.js';
import { compileTrainingGraph } from '../compiled/graph.js';
import { type LayerRng, layerRngs } from '../layer-rng.js';
import { registerUnpackGradient } from '../unpack-gradient.js';
import { registerWasmTrainingKernels } from '../wasm-kernels.js';
import type { FromWorker, InitMessage, StepMessage, ToWorker } from './protocol.js';
import { concatValues, splitValues } from './shard.js';
import { type BatchGradients, type GradientOptions, tfjsGradients } from './shard-gradients.js';

interface Replica {
  model: tfl.LayersModel;
  trainable: tfl.LayerVariable[];
  state: tfl.LayerVariable[];
  layers: LayerRng[];
  /** The engine the main thread chose, bound to this replica. */
  gradients: BatchGradients;
}

async function startBackend(name: InitMessage['backend']): Promise<void> {
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    registerBatchNormGradient();
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  registerUnpackGradient();
  if (!(await tf.setBackend(name))) {
    throw new KwsError('UNSUPPORTED_ENVIRONMENT', `the ${name} backend failed to start in a gradient worker`);
  }
  await tf.ready();
}

function sameShapes(a: readonly tfl.LayerVariable[], shapes: readonly number[][]): boolean {
  return (
    a.length === shapes.length &&
    a.every((w, i) => tf.util.arraysEqual(w.read().shape, shapes[i] as number[]))
  );
}

async function createReplica(init: InitMessage): Promise<Replica> {
  if (init.prod) tf.enableProdMode();
  await startBackend(init.backend);
  registerKwsLayers();
  let model: tfl.LayersModel;
  try {
    model = await tfl.models.modelFromJSON(init.topology as Parameters<typeof tfl.models.modelFromJSON>[0]);
  } catch (e) {
    throw new KwsError(
      'MODEL_INVALID',
      `a gradient worker could not rebuild the model from its topology (${(e as Error).message}); ` +
        'workers > 1 supports models made of tfjs-layers and kws-kit layers only',
    );
  }
  const trainable = model.trainableWeights;
  const state = model.nonTrainableWeights;
  const layers = layerRngs(model);
  if (
    !sameShapes(trainable, init.trainableShapes) ||
    !sameShapes(state, init.stateShapes) ||
    layers.map((l) => l.name).join('\u0000') !== init.seededLayers.join('\u0000')
  ) {
    throw new KwsError(
      'MODEL_INVALID',
      'the model rebuilt from its topology in a gradient worker has other weights or seeded layers ' +
        'than the original (a layer whose weights are not described by its config?)',
    );
  }
  const options: GradientOptions = {
    frames: init.frames,
    bins: init.bins,
    io: { channelAxis: init.channelAxis, classes: init.classes },
    classWeights: init.classWeights,
    microBatchSize: init.microBatchSize,
  };
  const gradients =
    init.engine === 'compiled'
      ? compiledGradients(compileTrainingGraph(model, { frames: init.frames }), options)
      : tfjsGradients(model, options);
  return { model, trainable, state, layers, gradients };
}

function writeWeights(weights: readonly tfl.LayerVariable[], values: Float32Array): void {
  const parts = splitValues(
    values,
    weights.map((w) => w.read().shape),
  );
  tf.tidy(() => {
    weights.forEach((w, i) => {
      w.write(tf.tensor(parts[i] as Float32Array, w.read().shape));
    });
  });
}

function step(replica: Replica, msg: StepMessage): FromWorker {
  const started = performance.now();
  writeWeights(replica.trainable, msg.trainable);
  writeWeights(replica.state, msg.state);
  replica.layers.forEach((layer, i) => {
    layer.setState(msg.rng[i] as StepMessage['rng'][number]);
  });
  const result = replica.gradients(msg.features, msg.labels, msg.denominator);
  const state = concatValues(replica.state.map((w) => w.read().dataSync() as Float32Array));
  return {
    type: 'step',
    grads: result.grads,
    state,
    loss: result.loss,
    correct: result.correct,
    rng: replica.layers.map((l) => l.getState()),
    computeMs: performance.now() - started,
  };
}

function errorReply(e: unknown): FromWorker {
  return {
    type: 'error',
    code: e instanceof KwsError ? e.code : undefined,
    message: e instanceof Error ? e.message : String(e),
  };
}

async function main(): Promise<void> {
  const { parentPort } = await nodeBuiltin('worker_threads', { caller: 'a gradient worker' });
  if (parentPort === null) return;
  const port = parentPort;
  let replica: Replica | null = null;
  // Messages are handled one at a time, in order: init is async, steps wait for it.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    queue = queue.then(async () => {
      try {
        if (msg.type === 'init') {
          replica = await createReplica(msg);
          port.postMessage({ type: 'ready' } satisfies FromWorker);
          return;
        }
        if (replica === null) throw new KwsError('INVALID_ARGUMENT', 'gradient worker: step before init');
        // Copied, not transferred: see GradientWorkerPool.request.
        port.postMessage(step(replica, msg));
      } catch (e) {
        port.postMessage(errorReply(e));
      }
    });
  });
}

void main();
