/**
 * A fixed set of gradient worker threads with request/reply messaging: each request to a worker
 * resolves with its next reply, in order. A worker that reports an error, throws or exits
 * rejects what is pending on it; {@link GradientWorkerPool.close} terminates every thread.
 *
 * @internal
 * @packageDocumentation
 */
import { KwsError, type KwsErrorCode } from '../../errors.js';
import { type NodeBuiltins, nodeBuiltin } from '../../node-builtins.js';
import type { FromWorker, InitMessage, StepMessage, StepReply } from './protocol.js';
import { gradientWorkerLaunch } from './worker-script.js';

type Worker = InstanceType<NodeBuiltins['worker_threads']['Worker']>;

interface Pending {
  resolve(reply: FromWorker): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Pending[];
  /** Set once the thread has exited (or failed); later requests reject at once. */
  failure: Error | null;
}

let live = 0;

/** Gradient worker threads currently running in this process (for tests: none may outlive `train`). */
export function liveGradientWorkers(): number {
  return live;
}

function failure(index: number, code: string | undefined, message: string): Error {
  const text = `gradient worker ${index}: ${message}`;
  return code === undefined ? new Error(text) : new KwsError(code as KwsErrorCode, text);
}

/** The worker threads of one data-parallel training run. */
export class GradientWorkerPool {
  private readonly slots: Slot[];
  private closing = false;

  private constructor(slots: Slot[]) {
    this.slots = slots;
  }

  /**
   * Starts `count` workers and initialises each with `init`; resolves once all are ready.
   * On any failure every started thread is terminated before the promise rejects.
   */
  static async start(count: number, init: InitMessage): Promise<GradientWorkerPool> {
    const [threads, launch] = await Promise.all([
      nodeBuiltin('worker_threads', { caller: 'train with workers > 1', alternative: 'workers: 1' }),
      gradientWorkerLaunch(),
    ]);
    const slots: Slot[] = [];
    const pool = new GradientWorkerPool(slots);
    for (let k = 0; k < count; k++) {
      const worker = new threads.Worker(launch.script, { eval: launch.evalCode });
      live++;
      const slot: Slot = { worker, pending: [], failure: null };
      slots.push(slot);
      worker.on('message', (reply: FromWorker) => {
        const next = slot.pending.shift();
        if (next === undefined) return;
        if (reply.type === 'error') next.reject(failure(k, reply.code, reply.message));
        else next.resolve(reply);
      });
      const fail = (error: Error): void => {
        slot.failure ??= error;
        for (const p of slot.pending.splice(0)) p.reject(slot.failure);
      };
      worker.on('error', (e: Error) => fail(failure(k, undefined, e.message)));
      worker.on('exit', (code: number) => {
        live--;
        if (!pool.closing) fail(failure(k, undefined, `the thread exited (code ${code})`));
      });
    }
    try {
      await settleAll(slots.map((_, k) => pool.request(k, init)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /**
   * Sends `message` to worker `index` and resolves with its reply (rejects on its error).
   *
   * Messages are always copied, never sent with a transfer list. Transferring detaches the
   * sender's ArrayBuffer, and the first detach in a thread makes V8 drop an optimisation for the
   * rest of that thread's life: from then on every optimised typed-array loop re-checks whether
   * its buffer was detached. Measured on the compiled training step (BC-ResNet-1, 50 examples,
   * two workers): 310-320 ms per step in a worker that never detached a buffer, 355-375 ms in one
   * that had, and the same 15 % on the main thread's own typed-array work. Copying a step's
   * messages (about 0.9 MB) costs well under a millisecond.
   */
  request(index: number, message: InitMessage): Promise<FromWorker>;
  request(index: number, message: StepMessage): Promise<StepReply>;
  request(index: number, message: InitMessage | StepMessage): Promise<FromWorker> {
    const slot = this.slots[index] as Slot;
    if (slot.failure !== null) return Promise.reject(slot.failure);
    return new Promise<FromWorker>((resolve, reject) => {
      slot.pending.push({ resolve, reject });
      slot.worker.postMessage(message);
    });
  }

  /** Terminates every worker thread; idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new KwsError('DISPOSED', 'the gradient workers were closed');
    for (const slot of this.slots) {
      slot.failure ??= closed;
      for (const p of slot.pending.splice(0)) p.reject(closed);
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * Waits for every promise (so that no rejection goes unhandled), then returns their values or
 * throws the first rejection in order.
 */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const values: T[] = [];
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    values.push(r.value);
  }
  return values;
}
