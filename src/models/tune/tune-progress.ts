/**
 * Progress of a search: on a terminal one line per evaluation on stderr (`trial k of n`, its
 * accuracy and the best so far); otherwise one JSON object per evaluation on stdout (JSON Lines),
 * like the training loop's reporter.
 *
 * @packageDocumentation
 */
import type { LoggerMode, ProgressStreams } from '../../train/index.js';
import type { TrialEvaluation } from './tune-journal.js';

/** What the reporter is told after each evaluation. */
export interface TuneProgress {
  evaluation: TrialEvaluation;
  /** Trained evaluations so far (this one included; pruned and invalid ones are not counted). */
  done: number;
  /** Trained evaluations the plan holds. */
  total: number;
  /** Best accuracy so far at the largest number of epochs reached, and its trial id. */
  best: { id: string; accuracy: number; epochs: number } | null;
  /** Whether the evaluation came from the journal (not run again). */
  fromJournal: boolean;
}

/** Receives search progress. */
export interface TuneReporter {
  report(p: TuneProgress): void;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The terminal line of one evaluation. */
export function formatTuneLine(p: TuneProgress): string {
  const e = p.evaluation;
  const best = p.best === null ? '' : ` | best ${pct(p.best.accuracy)} (${p.best.id}, ${p.best.epochs} ep)`;
  const cost = e.params === undefined ? '' : ` ${e.params} params ${((e.macs ?? 0) / 1e6).toFixed(2)} M MACs`;
  if (e.status !== 'ok') return `${e.id} ${e.status}: ${e.reason ?? ''}${cost}`;
  const from = p.fromJournal ? ' (journal)' : '';
  return (
    `trial ${p.done} of ${p.total}: ${e.id} rung ${e.rung} ${e.epochs} ep acc ${pct(e.accuracy ?? 0)}` +
    `${cost} ${e.seconds.toFixed(1)} s${from}${best}`
  );
}

/**
 * A reporter: `'auto'` prints lines on stderr when it is a terminal, else JSON lines on stdout;
 * `'json'` always JSON lines; `'silent'` nothing.
 */
export function createTuneReporter(mode: LoggerMode, streams?: ProgressStreams): TuneReporter {
  const s =
    streams ?? (typeof process === 'undefined' ? null : { stdout: process.stdout, stderr: process.stderr });
  if (mode === 'silent' || s === null) return { report() {} };
  if (mode === 'json' || s.stderr.isTTY !== true) {
    return {
      report(p) {
        s.stdout.write(
          `${JSON.stringify({ ...p.evaluation, type: 'trial', done: p.done, total: p.total, best: p.best, fromJournal: p.fromJournal })}\n`,
        );
      },
    };
  }
  return {
    report(p) {
      s.stderr.write(`${formatTuneLine(p)}\n`);
    },
  };
}
