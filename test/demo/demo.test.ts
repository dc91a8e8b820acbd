import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCommand, formatDemoResult } from '../../src/cli/demo-command.js';
import { EXIT, exitCodeOf } from '../../src/cli/exit-codes.js';
import { buildProgram } from '../../src/cli/main.js';
import type { DemoReport } from '../../src/demo/demo-report.js';
import { demoMarkdown, demoSvgs, formatAccuracy, formatCount } from '../../src/demo/report.js';
import { runDemo } from '../../src/demo/run-demo.js';
import { decodeWav } from '../../src/features/index.js';
import { loadModel } from '../../src/models/index.js';
import { checkXml } from '../plot/xml-check.js';

const out = mkdtempSync(join(tmpdir(), 'kws-demo-'));
let report: DemoReport;
let tensorsBefore = 0;
let tensorsAfter = 0;
const lines: string[] = [];

beforeAll(async () => {
  tf.enableProdMode();
  expect(await tf.setBackend('wasm')).toBe(true);
  await tf.ready();
  tensorsBefore = tf.memory().numTensors;
  report = await runDemo({ quick: true, out, synth: 'builtin', seed: 3, log: (l) => lines.push(l) });
  tensorsAfter = tf.memory().numTensors;
}, 600_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('runDemo({ quick: true, synth: "builtin" })', () => {
  it('leaks no tensors', () => {
    expect(tensorsAfter).toBe(tensorsBefore);
  });

  it('writes report.md, report.json, the four SVGs, the track and the models', () => {
    for (const f of Object.values(report.files)) expect(existsSync(join(out, f)), f).toBe(true);
    for (const name of [
      report.files.accuracyVsMacs,
      report.files.accuracyVsBytes,
      report.files.stream,
      report.files.confusion,
    ]) {
      const svg = readFileSync(join(out, name), 'utf8');
      checkXml(svg);
      expect(svg).toBe(demoSvgs(report)[name]);
    }
    const track = decodeWav(readFileSync(join(out, report.stream.wav)));
    expect((1000 * (track.channels[0]?.length ?? 0)) / track.sampleRate).toBeCloseTo(
      report.stream.durationMs,
      6,
    );
    for (const m of report.models)
      if (m.dir !== null) expect(existsSync(join(out, m.dir, 'model.json'))).toBe(true);
  });

  it('report.json is the returned object and report.md renders it', () => {
    expect(JSON.parse(readFileSync(join(out, report.files.json), 'utf8'))).toEqual(report);
    const md = readFileSync(join(out, report.files.report), 'utf8');
    expect(md).toBe(demoMarkdown(report));
    for (const m of report.models) {
      expect(md).toContain(
        `| ${m.name} | ${m.description} | ${formatCount(m.params)} | ${formatCount(m.macs)} | ` +
          `${formatCount(m.weightBytes)} | ${formatCount(m.bytes)} | ${formatAccuracy(m.accuracy)} |`,
      );
    }
    expect(md).toContain(`${report.stream.hits} hit(s), ${report.stream.misses} miss(es)`);
    for (const t of report.timings) expect(md).toContain(`| ${t.step} | ${t.seconds.toFixed(1)} |`);
    expect(md).toContain('**Synthetic data.**');
  });

  it('reports the data, the models and their costs consistently', async () => {
    expect(report.data.source).toBe('builtin');
    expect(report.data.synthetic).toBe(true);
    expect(report.data.labels).toHaveLength(12);
    expect(report.models.map((m) => m.name)).toEqual([
      'teacher as shipped',
      'teacher',
      'student',
      'student int8',
      'student float16',
    ]);
    const [shipped, teacher, student, int8, f16] = report.models as [Row, Row, Row, Row, Row];
    expect(teacher.params).toBe(shipped.params);
    expect(teacher.macs).toBe(shipped.macs);
    expect(student.macs).toBeLessThan(teacher.macs / 2);
    expect(student.params).toBeLessThan(teacher.params);
    for (const q of [int8, f16]) {
      expect(q.params).toBe(student.params);
      expect(q.macs).toBe(student.macs);
      expect(q.weightBytes).toBeLessThan(student.weightBytes);
    }
    expect(int8.weightBytes).toBeLessThan(f16.weightBytes);
    // The saved files hold what the report says.
    const saved = JSON.parse(readFileSync(join(out, student.dir as string, 'model.json'), 'utf8'));
    expect(saved.userDefinedMetadata.kwsKit.labels).toEqual(report.data.labels);
    const loaded = await loadModel(join(out, int8.dir as string));
    expect(loaded.outputs[0]?.shape).toEqual([null, 12]);
    loaded.dispose();
  });

  it('the confusion matrix is the final model on the test split', () => {
    const final = report.models.find((m) => m.name === report.finalModel);
    const { matrix, labels } = report.confusion;
    expect(labels).toEqual(report.data.labels);
    const total = matrix.flat().reduce((a, b) => a + b, 0);
    const correct = matrix.reduce((a, row, i) => a + (row[i] as number), 0);
    expect(total).toBe(report.data.examples.test);
    expect(final?.accuracy).toBeCloseTo(correct / total, 12);
  });

  it('streams the glued track: spans, probabilities and scored events', () => {
    const { stream } = report;
    const keywords = stream.parts.filter((p) => !p.label.startsWith('_'));
    expect(keywords.length).toBe(2);
    expect(stream.parts.some((p) => p.label === '_unknown_')).toBe(true);
    expect(stream.hits + stream.misses).toBe(keywords.length);
    expect(stream.series.map((s) => s.label).sort()).toEqual(
      [...new Set(keywords.map((k) => k.label))].sort(),
    );
    for (const s of stream.series) {
      expect(s.timeMs.length).toBe(s.probability.length);
      expect(s.timeMs.length).toBeGreaterThan(10);
      for (const p of s.probability) expect(p >= 0 && p <= 1).toBe(true);
    }
    for (const e of stream.events) expect(e.score).toBeGreaterThanOrEqual(stream.threshold);
  });

  it('times every step and logs progress', () => {
    expect(report.timings.map((t) => t.step.split(':')[0])).toEqual([
      'data',
      'teacher',
      'student',
      'quantize',
      'stream',
    ]);
    const sum = report.timings.reduce((a, t) => a + t.seconds, 0);
    expect(report.totalSeconds).toBeGreaterThanOrEqual(sum);
    expect(lines.some((l) => l.includes('teacher epoch 1/1'))).toBe(true);
    expect(formatDemoResult(report)).toContain(`report: ${out}/report.md`);
  });
});

type Row = DemoReport['models'][number];

describe('runDemo and kws-kit demo reject bad options', () => {
  it('throws INVALID_ARGUMENT before doing any work', async () => {
    await expect(runDemo({ studentWidth: 2, out })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runDemo({ synth: 'flite' as 'auto', out })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(runDemo({ seed: -1, out })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('the subcommand documents its options and exits 2 on a bad one', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io = {
      stdout: { write: (s: string) => stdout.push(s) },
      stderr: { write: (s: string) => stderr.push(s) },
      stdin: (async function* () {})(),
    };
    const program = buildProgram(io, [demoCommand]);
    await expect(program.parseAsync(['demo', '--help'], { from: 'user' })).rejects.toMatchObject({
      exitCode: 0,
    });
    for (const flag of [
      '--out',
      '--data',
      '--limit',
      '--synth',
      '--no-pretrained',
      '--quick',
      '--seed',
      '--json',
      '--backend',
    ]) {
      expect(stdout.join('')).toContain(flag);
    }
    const error = await buildProgram(io, [demoCommand])
      .parseAsync(['demo', '--synth', 'flite'], { from: 'user' })
      .catch((e: unknown) => e);
    expect(exitCodeOf(error)).toBe(EXIT.usage);
    expect(stderr.join('')).toContain('flite');
  });
});
