/**
 * The search journal: a JSON-lines file with a header line describing the search (seed,
 * strategy, space, budget, fixed options, constraints) and one line per finished evaluation
 * (a configuration at one rung). A re-run with the same journal reads it back and skips what is
 * done. Reading is tolerant: a line that does not parse (a crash mid-write, a hand edit) becomes
 * a warning and only that evaluation runs again; every intact line is kept.
 *
 * Node only: `fs` is loaded when a function runs, not at module load, so browser bundles that
 * never call these functions build.
 *
 * @packageDocumentation
 */
import { KwsError, type KwsErrorCode } from '../../errors.js';
import { nodeBuiltin, nodeFileSystem } from '../../node-builtins.js';
import type { TrialConfig } from './search-space.js';
import type { TrialCost } from './trial-config.js';

/** Journal format version. */
export const TUNE_JOURNAL_VERSION = 1;

/**
 * Code of the warnings for corrupt journal lines.
 */
export const JOURNAL_CORRUPT: KwsErrorCode = 'JOURNAL_CORRUPT';

/** Outcome of one evaluation. */
export type TrialStatus = 'ok' | 'pruned' | 'invalid';

/** The first line: what search wrote the journal. */
export interface JournalHeader {
  type: 'header';
  version: number;
  /** Canonical description of the search; a resume must match it. */
  search: Record<string, unknown>;
}

/** One finished evaluation: a configuration after the epochs of one rung. */
export interface TrialEvaluation extends Partial<TrialCost> {
  type: 'evaluation';
  /** Trial index, in sampling order (0-based). */
  trial: number;
  /** Trial name, `t` + zero-padded index. */
  id: string;
  /** Rung index (0 for random search). */
  rung: number;
  /** Epochs trained so far (0 for a configuration that did not train). */
  epochs: number;
  config: TrialConfig;
  status: TrialStatus;
  /** Objective (validation accuracy by default); null unless status is 'ok'. */
  accuracy: number | null;
  /** Why the configuration did not train (pruned or invalid). */
  reason?: string;
  /** Anything else the objective returned (losses, timings, …). */
  metrics?: Record<string, unknown>;
  /** Wall time of the evaluation, in seconds. */
  seconds: number;
}

/** What {@link readJournal} found. */
export interface JournalContents {
  header: JournalHeader | null;
  /** Intact evaluations in file order; for a repeated (trial, rung) the last line wins. */
  evaluations: TrialEvaluation[];
  /** One per corrupt line, code {@link JOURNAL_CORRUPT}, naming the file and line. */
  warnings: KwsError[];
}

/** Key of an evaluation: trial and rung. */
export function evaluationKey(trial: number, rung: number): string {
  return `${trial}@${rung}`;
}

function isEvaluation(v: Record<string, unknown>): boolean {
  return (
    v.type === 'evaluation' &&
    Number.isInteger(v.trial) &&
    Number.isInteger(v.rung) &&
    typeof v.id === 'string' &&
    typeof v.epochs === 'number' &&
    typeof v.config === 'object' &&
    v.config !== null &&
    (v.status === 'ok' || v.status === 'pruned' || v.status === 'invalid') &&
    (v.accuracy === null || typeof v.accuracy === 'number') &&
    (v.status !== 'ok' || typeof v.accuracy === 'number')
  );
}

/**
 * Parses journal text. Never throws on content: a line that is not JSON, or JSON that is not a
 * header or an evaluation, gives a warning (code {@link JOURNAL_CORRUPT}) and is skipped.
 */
export function parseJournal(text: string, path = 'journal'): JournalContents {
  const lines = text.split('\n');
  let header: JournalHeader | null = null;
  const byKey = new Map<string, TrialEvaluation>();
  const warnings: KwsError[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      warnings.push(
        new KwsError(
          JOURNAL_CORRUPT,
          `${path} line ${i + 1} is corrupt (${(e as Error).message}); it is skipped and that evaluation runs again`,
        ),
      );
      return;
    }
    const v = value as Record<string, unknown>;
    if (typeof value === 'object' && value !== null && v.type === 'header' && typeof v.search === 'object') {
      header = value as JournalHeader;
      return;
    }
    if (typeof value === 'object' && value !== null && isEvaluation(v)) {
      const e = value as TrialEvaluation;
      byKey.delete(evaluationKey(e.trial, e.rung));
      byKey.set(evaluationKey(e.trial, e.rung), e);
      return;
    }
    warnings.push(
      new KwsError(
        JOURNAL_CORRUPT,
        `${path} line ${i + 1} is not a journal entry (expected a header or an evaluation with ` +
          'trial, rung, id, epochs, config, status, accuracy); it is skipped and that evaluation runs again',
      ),
    );
  });
  return { header, evaluations: [...byKey.values()], warnings };
}

/** Reads a journal file; a missing file is an empty journal. */
export async function readJournal(path: string): Promise<JournalContents> {
  const { readFile } = await nodeBuiltin('fs/promises', { caller: 'readJournal' });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return { header: null, evaluations: [], warnings: [] };
    throw new KwsError('NOT_FOUND', `cannot read the journal ${path}: ${(e as Error).message}`);
  }
  return parseJournal(text, path);
}

/**
 * Appends entries to a journal, one JSON line each. When the file does not end with a newline
 * (a line cut short by a crash), a newline goes first so the new line stays intact.
 */
export async function appendJournal(
  path: string,
  entries: readonly (JournalHeader | TrialEvaluation)[],
): Promise<void> {
  const {
    fs: { appendFile, mkdir, readFile },
    path: { dirname },
  } = await nodeFileSystem({ caller: 'appendJournal' });
  let prefix = '';
  try {
    const existing = await readFile(path);
    if (existing.length > 0 && existing[existing.length - 1] !== 0x0a) prefix = '\n';
  } catch {
    await mkdir(dirname(path), { recursive: true });
  }
  await appendFile(path, prefix + entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
}
