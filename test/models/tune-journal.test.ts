import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { choiceParam, floatParam, type TrialConfig } from '../../src/models/tune/search-space.js';
import { appendJournal, parseJournal, readJournal } from '../../src/models/tune/tune-journal.js';
import { type TuneOptions, type TuneResult, tune } from '../../src/models/tune.js';

const dir = mkdtempSync(join(tmpdir(), 'kws-tune-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function accuracy(config: TrialConfig, epochs: number): number {
  return (1 - ((config.x as number) - 0.6) ** 2 - (config.y === 'c' ? 0 : 0.05)) * (1 - 1 / (epochs + 2));
}

function counting(failAfter = Number.POSITIVE_INFINITY) {
  const state = { calls: 0 };
  const objective: TuneOptions['objective'] = (config, budget) => {
    if (state.calls >= failAfter) throw new Error('killed');
    state.calls += 1;
    return { accuracy: accuracy(config, budget.epochs), note: `e${budget.epochs}` };
  };
  return { state, objective };
}

const options = (journal: string, objective: TuneOptions['objective']): TuneOptions => ({
  space: { x: floatParam(0, 1), y: choiceParam(['a', 'b', 'c']) },
  extraOptionNames: ['x', 'y'],
  budget: { trials: 9, minEpochs: 1, maxEpochs: 9, eta: 3 },
  measure: false,
  logger: 'silent',
  seed: 4,
  journal,
  objective,
});

const table = (r: TuneResult) =>
  r.trials.map((t) => ({
    id: t.id,
    status: t.status,
    epochs: t.epochs,
    accuracy: t.accuracy,
    config: t.config,
    metrics: t.metrics,
    front: t.front,
  }));

describe('tune journal', () => {
  it('resumes after a kill without repeating a finished trial and ends with the same table', async () => {
    const full = counting();
    const uninterrupted = await tune(options(join(dir, 'a.jsonl'), full.objective));
    expect(full.state.calls).toBe(9 + 3 + 1);

    const journal = join(dir, 'b.jsonl');
    const killed = counting(7);
    await expect(tune(options(journal, killed.objective))).rejects.toThrow('killed');
    expect(readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(1 + 7);

    const resumed = counting();
    const result = await tune(options(journal, resumed.objective));
    expect(killed.state.calls + resumed.state.calls).toBe(full.state.calls);
    expect(resumed.state.calls).toBe(13 - 7);
    expect(result.fromJournal).toBe(7);
    expect(table(result)).toEqual(table(uninterrupted));

    // A third run finds everything done.
    const again = counting();
    const third = await tune(options(journal, again.objective));
    expect(again.state.calls).toBe(0);
    expect(table(third)).toEqual(table(uninterrupted));
  });

  it('survives a corrupted line: a KwsError-coded warning, only that evaluation runs again', async () => {
    const journal = join(dir, 'c.jsonl');
    const first = counting();
    const reference = await tune(options(journal, first.objective));
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[4] = (lines[4] as string).slice(0, 25); // cut mid-JSON, as a crash would
    writeFileSync(journal, lines.join('\n'));

    const parsed = await readJournal(journal);
    expect(parsed.evaluations).toHaveLength(12);
    expect(parsed.warnings).toHaveLength(1);
    expect(parsed.warnings[0]).toBeInstanceOf(KwsError);
    expect(parsed.warnings[0]?.code).toBe('JOURNAL_CORRUPT');
    expect(parsed.warnings[0]?.message).toMatch(/c\.jsonl line 5 is corrupt/);

    const resumed = counting();
    const result = await tune(options(journal, resumed.objective));
    expect(resumed.state.calls).toBe(1);
    expect(result.warnings.map((w) => w.code)).toEqual(['JOURNAL_CORRUPT']);
    expect(table(result)).toEqual(table(reference));

    await expect(
      tune({ ...options(journal, counting().objective), strictJournal: true }),
    ).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
    });
  });

  it('keeps a line cut short at the end apart from the next one', async () => {
    const journal = join(dir, 'd.jsonl');
    writeFileSync(journal, '{"type":"evaluation","trial":0');
    await appendJournal(journal, [{ type: 'header', version: 1, search: { a: 1 } }]);
    const parsed = parseJournal(readFileSync(journal, 'utf8'), 'd.jsonl');
    expect(parsed.header?.search).toEqual({ a: 1 });
    expect(parsed.warnings).toHaveLength(1);
    expect(parseJournal('[1,2]\n\n{"type":"evaluation"}\n').warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/line 1 is not a journal entry/),
      expect.stringMatching(/line 3 is not a journal entry/),
    ]);
  });

  it('refuses a journal written by another search', async () => {
    const journal = join(dir, 'e.jsonl');
    await tune({
      ...options(journal, counting().objective),
      budget: { trials: 3, minEpochs: 1, maxEpochs: 3 },
    });
    await expect(
      tune({
        ...options(journal, counting().objective),
        seed: 5,
        budget: { trials: 3, minEpochs: 1, maxEpochs: 3 },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/different search/) });
  });
});
