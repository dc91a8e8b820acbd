/**
 * Data-parallel training steps over worker threads, for `train(model, { workers })`.
 *
 * Why threads: tfjs' wasm backend runs single-threaded in Node, so one training process uses
 * one core. Here each step's batch is cut into `workers` contiguous shards; worker k (its own
 * tfjs and backend, a copy of the model rebuilt from its topology) receives the current weights
 * and its shard, and returns the gradient of its share of the batch loss (the shard's loss
 * divided by the **whole batch's** denominator, so that shard gradients add up to the batch
 * gradient, class weights included), its updated non-trainable weights and its seeded layers'
 * generator states. The main thread sums the gradients in shard order, applies the optimizer
 * (in `train`), and sets the model's non-trainable weights (batch-norm moving statistics) to the
 * mean of the workers' weighted by shard size.
 *
 * What differs from one process: batch norm in training mode normalises with each shard's own
 * batch statistics (as PyTorch's DistributedDataParallel without SyncBatchNorm does), and
 * seeded dropout draws per worker. Worker 0 continues the model's own layer generators; worker
 * k ≥ 1 starts from generators derived from the run seed and k. A run is reproducible for a
 * given `workers`; checkpoints store worker k's generators as `<layer>#<k>`.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { KwsError } from '../../errors.js';
import { createRng, type RngState } from '../../random.js';
import { gradientTensors } from '../compiled/engine.js';
import type { LayerRng } from '../layer-rng.js';
import { lossDenominator } from '../loss.js';
import type { ModelIo } from '../model-input.js';
import type { InitMessage, StepMessage, StepReply, WorkerBackend } from './protocol.js';
import { addInto, concatValues, shardRanges, splitValues, weightedMean } from './shard.js';
import { GradientWorkerPool, settleAll } from './worker-pool.js';

/** Settings of {@link DataParallel.start}. */
export interface DataParallelOptions {
  /** Worker threads, ≥ 2. */
  workers: number;
  /** The run seed (workers k ≥ 1 derive their layer generators from it). */
  seed: number;
  frames: number;
  bins: number;
  io: ModelIo;
  classWeights: readonly number[] | undefined;
  microBatchSize: number;
  /** The gradient engine every worker runs (see `train`'s `engine` option). Default `'tfjs'`. */
  engine?: 'compiled' | 'tfjs';
}

/** Where the time of the last step went, in ms (wall time of the main thread). */
export interface DataParallelTiming {
  /** Reading the weights and slicing the batch. */
  packMs: number;
  /** From posting the shards to the last reply. */
  roundTripMs: number;
  /** Each worker's own time for its shard (receive to reply), `-1` for a worker left idle. */
  workerMs: number[];
  /** Summing gradients, averaging statistics, writing them to the model. */
  combineMs: number;
}

/** One data-parallel step's result, as `train`'s single-process step returns it. */
export interface DataParallelStep {
  /** Loss of the whole batch. */
  loss: number;
  /** Correct predictions in the batch. */
  correct: number;
  /** Batch gradient of each trainable variable, by variable name; the caller disposes them. */
  grads: tf.NamedTensorMap;
}

/** The backends a worker can start. */
const BACKENDS: readonly WorkerBackend[] = ['cpu', 'wasm'];

/** Seed of worker k's layer generators (k ≥ 1): a function of the run seed and k only. */
function workerSeed(seed: number, k: number): number {
  return (createRng(seed).nextUint32() ^ Math.imul(k, 0x85ebca6b)) >>> 0;
}

function checkState(state: RngState): RngState {
  createRng(0).setState(state); // throws a KwsError for anything that is not a generator state
  return [...state] as unknown as RngState;
}

/** A running set of gradient workers bound to one model. */
export class DataParallel {
  /** Where the time of the last step went (null before the first step). */
  lastTiming: DataParallelTiming | null = null;
  /**
   * Generators of workers k ≥ 1 as extra layer entries named `<layer>#<k>`, for checkpoints
   * (saving and restoring them makes resume exact).
   */
  readonly workerLayerRngs: LayerRng[];
  private readonly states: RngState[][];

  private constructor(
    private readonly pool: GradientWorkerPool,
    private readonly model: tfl.LayersModel,
    private readonly layers: readonly LayerRng[],
    private readonly o: DataParallelOptions,
  ) {
    this.states = [];
    this.workerLayerRngs = [];
    for (let k = 1; k < o.workers; k++) {
      const rng = createRng(workerSeed(o.seed, k));
      const states = layers.map(() => rng.fork().getState());
      this.states[k] = states;
      layers.forEach((layer, i) => {
        this.workerLayerRngs.push({
          name: `${layer.name}#${k}`,
          getState: () => states[i] as RngState,
          setState: (s) => {
            states[i] = checkState(s);
          },
        });
      });
    }
  }

  /**
   * Starts `o.workers` threads on the current tfjs backend and copies `model` into each.
   *
   * @param layers - the model's seeded layers (worker 0 continues their generators).
   * @throws {@link KwsError} `INVALID_ARGUMENT` on a backend other than cpu and wasm;
   *   `MODEL_INVALID` when a worker cannot rebuild the model (custom layers kws-kit does not
   *   know); `UNSUPPORTED_ENVIRONMENT` outside Node.js.
   */
  static async start(
    model: tfl.LayersModel,
    layers: readonly LayerRng[],
    o: DataParallelOptions,
  ): Promise<DataParallel> {
    const backend = tf.getBackend() as WorkerBackend;
    if (!BACKENDS.includes(backend)) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `workers > 1 runs on the cpu or wasm backend; the current backend is ${String(backend)}`,
      );
    }
    const init: InitMessage = {
      type: 'init',
      backend,
      prod: tf.env().getBool('PROD'),
      topology: model.toJSON(null, false),
      trainableShapes: model.trainableWeights.map((w) => [...w.read().shape]),
      stateShapes: model.nonTrainableWeights.map((w) => [...w.read().shape]),
      seededLayers: layers.map((l) => l.name),
      frames: o.frames,
      bins: o.bins,
      channelAxis: o.io.channelAxis,
      classes: o.io.classes,
      classWeights: o.classWeights === undefined ? undefined : [...o.classWeights],
      microBatchSize: o.microBatchSize,
      engine: o.engine ?? 'tfjs',
    };
    const pool = await GradientWorkerPool.start(o.workers, init);
    return new DataParallel(pool, model, layers, o);
  }

  /**
   * One step's loss, correct count and batch gradient for the examples `xs` (`b·frames·bins`
   * values) with labels `ys`. Also sets the model's non-trainable weights to the workers'
   * shard-size-weighted mean and advances the seeded layers' generators.
   */
  async step(xs: Float32Array, ys: Int32Array): Promise<DataParallelStep> {
    const t0 = performance.now();
    const { model, o } = this;
    const trainable = concatValues(model.trainableWeights.map((w) => w.read().dataSync() as Float32Array));
    const state = concatValues(model.nonTrainableWeights.map((w) => w.read().dataSync() as Float32Array));
    const denominator = lossDenominator(ys, o.classWeights);
    const example = o.frames * o.bins;
    const ranges = shardRanges(ys.length, o.workers);
    const active = ranges
      .map((_, k) => k)
      .filter((k) => {
        const r = ranges[k] as { start: number; end: number };
        return r.end > r.start;
      });
    const t1 = performance.now();
    const replies = await settleAll(
      active.map((k) => {
        const { start, end } = ranges[k] as { start: number; end: number };
        const message: StepMessage = {
          type: 'step',
          trainable,
          state,
          features: xs.slice(start * example, end * example),
          labels: ys.slice(start, end),
          denominator,
          rng: k === 0 ? this.layers.map((l) => l.getState()) : (this.states[k] as RngState[]),
        };
        return this.pool.request(k, message);
      }),
    );
    const t2 = performance.now();
    const result = this.combine(active, ranges, replies);
    const workerMs = ranges.map(() => -1);
    active.forEach((k, i) => {
      workerMs[k] = (replies[i] as StepReply).computeMs;
    });
    this.lastTiming = {
      packMs: t1 - t0,
      roundTripMs: t2 - t1,
      workerMs,
      combineMs: performance.now() - t2,
    };
    return result;
  }

  private combine(
    active: readonly number[],
    ranges: readonly { start: number; end: number }[],
    replies: readonly StepReply[],
  ): DataParallelStep {
    const { model } = this;
    const first = replies[0] as StepReply;
    const sum = first.grads;
    let loss = 0;
    let correct = 0;
    replies.forEach((reply, i) => {
      if (i > 0) addInto(sum, reply.grads);
      loss += reply.loss;
      correct += reply.correct;
      const k = active[i] as number;
      if (k === 0) {
        this.layers.forEach((l, j) => {
          l.setState(reply.rng[j] as RngState);
        });
      } else this.states[k]?.splice(0, reply.rng.length, ...reply.rng);
    });
    const sizes = active.map((k) => {
      const r = ranges[k] as { start: number; end: number };
      return r.end - r.start;
    });
    const state = weightedMean(
      replies.map((r) => r.state),
      sizes,
    );
    const stateWeights = model.nonTrainableWeights;
    const stateParts = splitValues(
      state,
      stateWeights.map((w) => w.read().shape),
    );
    tf.tidy(() => {
      stateWeights.forEach((w, i) => {
        w.write(tf.tensor(stateParts[i] as Float32Array, w.read().shape));
      });
    });
    return { loss, correct, grads: gradientTensors(model.trainableWeights, sum) };
  }

  /** Terminates the worker threads. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
