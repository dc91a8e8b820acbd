import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import {
  createProgressReporter,
  formatEpochLine,
  formatProgressBar,
  type ProgressEpoch,
  type ProgressStreams,
} from '../../src/train/progress.js';

function capture(isTTY: boolean): ProgressStreams & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t), isTTY },
  };
}

const epoch: ProgressEpoch = {
  epoch: 2,
  epochs: 10,
  loss: 0.5,
  accuracy: 0.75,
  validationLoss: 0.6,
  validationAccuracy: 0.7,
  learningRate: 0.05,
  examplesPerSecond: 123.4,
  seconds: 3.21,
  elapsedSeconds: 6.5,
};

describe('progress output', () => {
  it('formats the bar and the epoch line', () => {
    expect(
      formatProgressBar({
        epoch: 1,
        epochs: 4,
        batch: 3,
        batches: 6,
        loss: 0.25,
        accuracy: 0.5,
        examplesPerSecond: 99.6,
      }),
    ).toBe(`epoch 1/4 [${'='.repeat(11)}>${' '.repeat(12)}] 3/6 loss 0.2500 acc 50.0% 100 ex/s`);
    expect(formatEpochLine(epoch)).toBe(
      'epoch 2/10 loss 0.5000 acc 75.0% val_loss 0.6000 val_acc 70.0% lr 0.0500 123 ex/s 3.2 s',
    );
  });

  it('auto on a terminal: redraws one line on stderr, ends epochs with a newline', () => {
    const s = capture(true);
    const r = createProgressReporter('auto', s);
    r.batch({ epoch: 1, epochs: 2, batch: 1, batches: 2, loss: 1, accuracy: 0, examplesPerSecond: 10 });
    r.batch({ epoch: 1, epochs: 2, batch: 2, batches: 2, loss: 1, accuracy: 0, examplesPerSecond: 10 });
    r.epoch(epoch);
    r.close();
    expect(s.out).toEqual([]);
    expect(s.err[0]?.startsWith('\r\x1b[2Kepoch 1/2 [')).toBe(true);
    // The last batch of an epoch is always drawn, even within the redraw interval.
    expect(s.err.filter((t) => t.includes('2/2 loss')).length).toBe(1);
    expect(s.err.join('')).toContain(`${formatEpochLine(epoch)}\n`);
    expect(s.err.join('').includes('\n')).toBe(true);
  });

  it('auto without a terminal, and json: one JSON line per epoch on stdout', () => {
    for (const [mode, tty] of [
      ['auto', false],
      ['json', true],
    ] as const) {
      const s = capture(tty);
      const r = createProgressReporter(mode, s);
      r.batch({ epoch: 1, epochs: 2, batch: 1, batches: 2, loss: 1, accuracy: 0, examplesPerSecond: 10 });
      r.epoch(epoch);
      r.close();
      expect(s.err).toEqual([]);
      expect(s.out.length).toBe(1);
      expect(s.out[0]?.endsWith('\n')).toBe(true);
      expect(JSON.parse(s.out[0] as string)).toEqual({ type: 'epoch', ...epoch });
    }
  });

  it('silent prints nothing; unknown modes throw', () => {
    const s = capture(true);
    const r = createProgressReporter('silent', s);
    r.epoch(epoch);
    expect([...s.out, ...s.err]).toEqual([]);
    expect(() => createProgressReporter('verbose' as never, s)).toThrow(KwsError);
  });
});
