/**
 * Progress of long commands on stderr, so that stdout carries only results: a bar redrawn in
 * place when stderr is a terminal, otherwise one JSON line per training epoch (the reporter of
 * `kws-kit/train`, pointed at the command's stderr).
 *
 * @packageDocumentation
 */
import { createProgressReporter, type EpochStats, type TrainCallbacks } from '../train/index.js';
import type { CliIo } from './cli-io.js';

/**
 * A `(done, total)` callback drawing `label [#####.....] done/total` on a terminal stderr, or
 * undefined when stderr is not a terminal (or `quiet`).
 */
export function countProgress(
  label: string,
  io: CliIo,
  quiet = false,
): ((done: number, total: number) => void) | undefined {
  if (quiet || io.stderr.isTTY !== true) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 24;
    const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : width;
    io.stderr.write(
      `\r\x1b[2K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`,
    );
    if (done >= total) io.stderr.write('\n');
  };
}

/** Training callbacks that report progress, and the function that ends the output. */
export interface TrainingProgress {
  callbacks: TrainCallbacks;
  close(): void;
}

/**
 * Progress of `train` / `distill` runs: batches of `batchSize` out of `examples` training
 * examples per epoch, `epochs` epochs.
 */
export function trainingProgress(
  io: CliIo,
  run: { epochs: number; examples: number; batchSize: number },
  quiet = false,
): TrainingProgress {
  const reporter = createProgressReporter(quiet ? 'silent' : 'auto', {
    stdout: io.stderr,
    stderr: io.stderr,
  });
  const batches = Math.ceil(run.examples / run.batchSize);
  let epochStart = Date.now();
  let seen = 0;
  let lossSum = 0;
  let correct = 0;
  return {
    callbacks: {
      onBatchEnd(b) {
        if (b.batch === 0) {
          epochStart = Date.now();
          seen = 0;
          lossSum = 0;
          correct = 0;
        }
        seen += b.size;
        lossSum += b.loss * b.size;
        correct += b.accuracy * b.size;
        const seconds = Math.max(1e-3, (Date.now() - epochStart) / 1000);
        reporter.batch({
          epoch: b.epoch,
          epochs: run.epochs,
          batch: b.batch + 1,
          batches,
          loss: lossSum / seen,
          accuracy: correct / seen,
          examplesPerSecond: seen / seconds,
        });
      },
      onEpochEnd(e: EpochStats) {
        reporter.epoch({
          epoch: e.epoch,
          epochs: run.epochs,
          loss: e.loss,
          accuracy: e.accuracy,
          ...(e.validationLoss === undefined ? {} : { validationLoss: e.validationLoss }),
          ...(e.validationAccuracy === undefined ? {} : { validationAccuracy: e.validationAccuracy }),
          learningRate: e.learningRate,
          examplesPerSecond: e.examplesPerSecond,
          seconds: e.seconds,
          elapsedSeconds: e.elapsedSeconds,
        });
      },
    },
    close: () => reporter.close(),
  };
}
