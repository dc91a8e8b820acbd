/**
 * The messages between the training loop (main thread) and its gradient workers. Everything is
 * structured-clone data: typed arrays, numbers, strings and the model's JSON topology.
 *
 * @internal
 * @packageDocumentation
 */
import type { RngState } from '../../random.js';

/** Backends a gradient worker can start (their packages are kws-kit's peer dependencies). */
export type WorkerBackend = 'cpu' | 'wasm';

/** Sets a worker up: its backend and a copy of the model rebuilt from its topology. */
export interface InitMessage {
  type: 'init';
  backend: WorkerBackend;
  /** tfjs' `PROD` flag of the main thread (prod mode silences the cpu backend's banner). */
  prod: boolean;
  /** `model.toJSON(null, false)`. */
  topology: unknown;
  /** Shapes of `model.trainableWeights`, in order (checked against the rebuilt copy). */
  trainableShapes: number[][];
  /** Shapes of `model.nonTrainableWeights` (batch-norm moving statistics, ...), in order. */
  stateShapes: number[][];
  /** Names of the seeded layers (`layerRngs`), in order. */
  seededLayers: string[];
  frames: number;
  bins: number;
  /** Whether the model input has a trailing channel axis of 1. */
  channelAxis: boolean;
  classes: number;
  classWeights: number[] | undefined;
  microBatchSize: number;
  /** The gradient engine the main thread chose (`train`'s `engine` option, resolved). */
  engine: 'compiled' | 'tfjs';
}

/** One shard of one training step. */
export interface StepMessage {
  type: 'step';
  /** Current trainable weights, concatenated in `trainableShapes` order. */
  trainable: Float32Array;
  /** Current non-trainable weights, concatenated in `stateShapes` order. */
  state: Float32Array;
  /** The shard's features, `size · frames · bins` values. */
  features: Float32Array;
  /** The shard's class indices. */
  labels: Int32Array;
  /** The whole batch's loss denominator (its size, or its total class weight). */
  denominator: number;
  /** Generator states of the seeded layers, in `seededLayers` order. */
  rng: RngState[];
}

/** What the main thread sends. */
export type ToWorker = InitMessage | StepMessage;

/** The worker is ready for steps. */
export interface ReadyReply {
  type: 'ready';
}

/** Result of a {@link StepMessage}. */
export interface StepReply {
  type: 'step';
  /** Σ over the shard's micro-batches of the gradient of (shard loss / batch denominator). */
  grads: Float32Array;
  /** Non-trainable weights after the step (moving statistics updated by the shard). */
  state: Float32Array;
  /** The shard's share of the batch loss. */
  loss: number;
  /** Correctly predicted examples of the shard. */
  correct: number;
  /** Generator states after the step. */
  rng: RngState[];
  /** Wall time from receiving the message to posting the reply, in ms. */
  computeMs: number;
}

/** A failure inside the worker. */
export interface ErrorReply {
  type: 'error';
  /** The `KwsError` code when the error was one, else undefined. */
  code: string | undefined;
  message: string;
}

/** What a worker sends back. */
export type FromWorker = ReadyReply | StepReply | ErrorReply;
