/**
 * Training progress output: a single-line progress bar redrawn in place on a terminal, or one
 * JSON object per epoch (JSON Lines) for logs and pipes.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';

/** How training reports progress. */
export type LoggerMode = 'auto' | 'json' | 'silent';

/** Per-epoch figures, as {@link ProgressReporter.epoch} prints them. */
export interface ProgressEpoch {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  validationLoss?: number;
  validationAccuracy?: number;
  learningRate: number;
  examplesPerSecond: number;
  seconds: number;
  elapsedSeconds: number;
}

/** Per-batch figures for the progress bar. */
export interface ProgressBatch {
  epoch: number;
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  batches: number;
  /** Running mean loss and accuracy of the epoch so far. */
  loss: number;
  accuracy: number;
  examplesPerSecond: number;
}

/** Where progress goes; by default `process.stdout` / `process.stderr`. */
export interface ProgressStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** Receives training progress. */
export interface ProgressReporter {
  batch(p: ProgressBatch): void;
  epoch(p: ProgressEpoch): void;
  /** Ends the output (clears a half-drawn bar). */
  close(): void;
}

/** Minimum time between two redraws of the bar, in ms. */
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

function defaultStreams(): ProgressStreams | null {
  if (typeof process === 'undefined' || !process.stdout || !process.stderr) return null;
  return { stdout: process.stdout, stderr: process.stderr };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The bar line: `epoch 3/60 [=========>      ] 12/36 loss 0.5321 acc 81.2% 412 ex/s`. */
export function formatProgressBar(p: ProgressBatch): string {
  const done = p.batches === 0 ? 0 : Math.min(1, p.batch / p.batches);
  const filled = Math.round(done * BAR_WIDTH);
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(BAR_WIDTH - filled);
  return (
    `epoch ${p.epoch}/${p.epochs} [${bar}] ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} ` +
    `acc ${pct(p.accuracy)} ${Math.round(p.examplesPerSecond)} ex/s`
  );
}

/** The summary line of an epoch on a terminal. */
export function formatEpochLine(p: ProgressEpoch): string {
  const val =
    p.validationAccuracy === undefined
      ? ''
      : ` val_loss ${(p.validationLoss as number).toFixed(4)} val_acc ${pct(p.validationAccuracy)}`;
  return (
    `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} acc ${pct(p.accuracy)}${val} ` +
    `lr ${p.learningRate.toPrecision(3)} ${Math.round(p.examplesPerSecond)} ex/s ${p.seconds.toFixed(1)} s`
  );
}

/**
 * A progress reporter. `'auto'`: a progress bar on stderr when stderr is a terminal, otherwise
 * one JSON line per epoch on stdout; `'json'`: JSON lines on stdout always; `'silent'`: nothing.
 *
 * @throws {@link KwsError} `INVALID_ARGUMENT` for an unknown mode.
 */
export function createProgressReporter(mode: LoggerMode, streams?: ProgressStreams): ProgressReporter {
  if (mode !== 'auto' && mode !== 'json' && mode !== 'silent') {
    throw new KwsError('INVALID_ARGUMENT', `logger must be 'auto', 'json' or 'silent'; got ${String(mode)}`);
  }
  const s = streams ?? defaultStreams();
  if (mode === 'silent' || s === null) return { batch() {}, epoch() {}, close() {} };
  if (mode === 'json' || s.stderr.isTTY !== true) {
    return {
      batch() {},
      epoch(p) {
        s.stdout.write(`${JSON.stringify({ type: 'epoch', ...p })}\n`);
      },
      close() {},
    };
  }
  let last = 0;
  let drawn = false;
  const clear = (): void => {
    if (drawn) s.stderr.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    batch(p) {
      const now = Date.now();
      if (now - last < REDRAW_MS && p.batch < p.batches) return;
      last = now;
      s.stderr.write(`\r\x1b[2K${formatProgressBar(p)}`);
      drawn = true;
    },
    epoch(p) {
      clear();
      s.stderr.write(`${formatEpochLine(p)}\n`);
    },
    close() {
      clear();
    },
  };
}
