/**
 * Shared machinery of the inference benches that time kws-kit against tfjs-layers and PyTorch
 * side by side in one run (bench/bc-resnet-inference.ts, bench/crnn-inference.ts): wall-time
 * rounds, their median, and a long-lived PyTorch process timed between the same rounds.
 *
 * Every figure is a median over rounds, each round the mean time per call over about a fixed
 * wall time, so that a round of each method can alternate with the others and changes in
 * machine load hit them all alike.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '../../src/random.js';

/** Frames of the benches' input: one 1 s clip of the default front end. */
export const FRAMES = 101;
/** Mel bins per frame. */
export const MELS = 40;

/** `frames` frames `[frames, MELS]` of log-mel-like values (around −4, spread 2), from `rng`. */
export function logMelLike(frames: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: frames * MELS }, () => rng.normal() * 2 - 4);
}

/** One row of a bench's result table. */
export interface Row {
  method: string;
  msPerClip: number;
  note?: string;
}

/** The machine a result was measured on, for the result files. */
export function machineInfo(): { cpus: number; model?: string; node: string; loadAverage1m?: number } {
  return { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverage1m: loadavg()[0] };
}

/** Largest `|a[i] − b[i]|` (runtime logits against tfjs'). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/**
 * Switches tfjs to `backend` and returns a function running `model.predict` on one example
 * `features` of `shape` (its values as a new array), and `dispose` for the input tensor.
 */
export async function tfjsPredictor(
  model: tfl.LayersModel,
  features: Float32Array,
  shape: number[],
  backend: string,
): Promise<{ predict: () => Float32Array; dispose: () => void }> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  await tf.ready();
  const input = tf.tensor(features, shape);
  const predict = (): Float32Array => {
    const out = model.predict(input) as tf.Tensor;
    const values = out.dataSync() as Float32Array;
    out.dispose();
    return values;
  };
  return { predict, dispose: () => input.dispose() };
}

/** The middle value (the upper one of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Mean ms per call of `fn` over calls filling about `ms` of wall time (at least 3 calls). */
export function timeRound(fn: () => unknown, ms: number): number {
  let calls = 0;
  const t0 = performance.now();
  let now = t0;
  while (calls < 3 || now - t0 < ms) {
    fn();
    calls++;
    now = performance.now();
  }
  return (now - t0) / calls;
}

/** Median over `rounds` rounds of about `ms` each of `fn` alone, after one warm-up round. */
export function medianRounds(fn: () => unknown, rounds: number, ms: number): number {
  timeRound(fn, ms);
  return median(Array.from({ length: rounds }, () => timeRound(fn, ms)));
}

/** A PyTorch model in a long-lived `python3` process (see {@link startTorch}). */
export interface TorchServer {
  /** `torch.__version__`. */
  readonly version: string;
  /** Parameters of the model (trainable or not). */
  readonly params: number;
  /** Mean ms per forward pass of the model over about `ms` of calls at `threads` threads. */
  time(threads: number, ms: number): Promise<number>;
  /** Ends the process. */
  close(): void;
}

/**
 * The result-file fields every side-by-side bench writes after its own: the input, the PyTorch
 * version, the runtime's logit parity with tfjs per backend, the table rows and the samples of
 * the interleaved rounds.
 */
export function sharedResult(
  torch: TorchServer | null,
  parity: Record<string, number>,
  rows: Row[],
  samples: Record<string, number[]>,
): {
  input: string;
  torch: string | null;
  maxAbsLogitDiffVsTfjs: Record<string, number>;
  rows: Row[];
  interleavedSamplesMs: Record<string, number[]>;
} {
  return {
    input: `1 × ${FRAMES} × ${MELS} (batch 1)`,
    torch: torch?.version ?? null,
    maxAbsLogitDiffVsTfjs: parity,
    rows,
    interleavedSamplesMs: samples,
  };
}

/**
 * Alternating rounds: per round, about `ms` of each function of `fns` in turn, then (with a
 * PyTorch server) about `ms` of PyTorch at 1 and at 2 threads; one warm-up round of each first.
 * Returns the ms per call of every round by name, PyTorch's as `torch1` and `torch2` (empty
 * without a server).
 */
export async function interleavedRounds(
  fns: Record<string, () => unknown>,
  torch: TorchServer | null,
  rounds: number,
  ms: number,
): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = { torch1: [], torch2: [] };
  for (const [name, fn] of Object.entries(fns)) {
    samples[name] = [];
    timeRound(fn, ms);
  }
  if (torch) {
    await torch.time(1, ms);
    await torch.time(2, ms);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(fns)) samples[name]?.push(timeRound(fn, ms));
    if (torch) {
      samples.torch1?.push(await torch.time(1, ms));
      samples.torch2?.push(await torch.time(2, ms));
    }
  }
  return samples;
}

/** PyTorch's rows `[1 thread, 2 threads]` from {@link interleavedRounds}' samples, or null. */
export function torchRows(
  name: string,
  torch: TorchServer | null,
  samples: Record<string, number[]>,
): [Row, Row] | null {
  if (torch === null) return null;
  return [
    { method: `PyTorch ${name}, 1 thread`, msPerClip: median(samples.torch1 ?? []) },
    { method: `PyTorch ${name}, 2 threads`, msPerClip: median(samples.torch2 ?? []) },
  ];
}

/**
 * The request loop of the PyTorch process: after the model source has defined `model` (in eval
 * mode), it makes the input `x` (one clip, `[1, 1, MELS, FRAMES]`), prints the model's version
 * and size, then answers each line "threads milliseconds" with the mean ms per forward pass over
 * about that many milliseconds.
 */
const TORCH_SERVER = `
x = torch.randn(1, 1, ${MELS}, ${FRAMES})
print(json.dumps({"torch": torch.__version__, "params": sum(p.numel() for p in model.parameters())}), flush=True)
with torch.inference_mode():
    for line in sys.stdin:
        threads, ms = (float(v) for v in line.split())
        torch.set_num_threads(int(threads))
        for _ in range(3): model(x)
        calls = 0
        t0 = time.perf_counter()
        now = t0
        while calls < 3 or (now - t0) * 1000 < ms:
            model(x)
            calls += 1
            now = time.perf_counter()
        print((now - t0) / calls * 1000, flush=True)
`;

/**
 * Starts `/usr/bin/python3` on `modelSource` (Python that imports what it needs, including
 * `json`, `sys`, `time` and `torch`, and defines `model`, taking `[batch, 1, MELS, FRAMES]`)
 * followed by the request loop.
 * Resolves to null, with a warning, when python3 or torch is missing or the source fails.
 */
export async function startTorch(modelSource: string): Promise<TorchServer | null> {
  const script = `${modelSource}\n${TORCH_SERVER}`;
  const py = spawn('/usr/bin/python3', ['-u', '-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const failed = new Promise<never>((_, reject) => {
    py.on('error', reject);
    py.on('exit', (code) => reject(new Error(`python3 exited with code ${code}`)));
  });
  failed.catch(() => {});
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const read = async (): Promise<string> => {
    const r = await Promise.race([lines.next(), failed]);
    if (r.done) throw new Error('python3 closed its output');
    return r.value as string;
  };
  try {
    const info = JSON.parse(await read()) as { torch: string; params: number };
    return {
      version: info.torch,
      params: info.params,
      time: async (threads, ms) => {
        py.stdin.write(`${threads} ${ms}\n`);
        return Number(await read());
      },
      close: () => {
        py.removeAllListeners('exit');
        py.stdin.end();
      },
    };
  } catch (e) {
    console.warn(`PyTorch not measured: ${(e as Error).message.split('\n')[0]}`);
    py.kill();
    return null;
  }
}
