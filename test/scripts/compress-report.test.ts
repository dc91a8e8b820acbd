import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesOnDisk, median } from '../../scripts/compress/measure.js';
import {
  bestStudent,
  buildReport,
  type ModelMeasurement,
  meetsTarget,
  renderMarkdown,
  reportPlots,
} from '../../scripts/compress/report.js';

const base: ModelMeasurement = {
  name: 'crnn-base',
  description: 'base',
  accuracy: 0.867,
  params: 70709,
  macs: 915264,
  bytes: 288000,
  format: 'float32',
  exportDir: '/x/base',
};

function setting(name: string, accuracy: number, macs: number, bytes: number): ModelMeasurement {
  return {
    name,
    description: name,
    accuracy,
    params: 8000,
    macs,
    bytes,
    format: 'int8',
    exportDir: `/x/${name}`,
  };
}

describe('compression report', () => {
  it('meetsTarget needs both ratios ≥ 10 and a loss ≤ 1 pp (boundaries included)', () => {
    expect(meetsTarget(base, { accuracy: 0.857, macs: 91526, bytes: 28800 })).toBe(true);
    expect(meetsTarget(base, { accuracy: 0.8569, macs: 91526, bytes: 28800 })).toBe(false);
    expect(meetsTarget(base, { accuracy: 0.9, macs: 91527, bytes: 28800 })).toBe(false);
    expect(meetsTarget(base, { accuracy: 0.9, macs: 90000, bytes: 28801 })).toBe(false);
  });

  it('bestStudent prefers target-meeting settings, then accuracy, then fewer bytes', () => {
    const r = { macs: 11, bytes: 11, params: 1, latency: 1 };
    expect(
      bestStudent([
        { name: 'a', accuracy: 0.9, bytes: 100, meetsTarget: false, ratios: { ...r, macs: 2 } },
        { name: 'b', accuracy: 0.86, bytes: 100, meetsTarget: true, ratios: r },
        { name: 'c', accuracy: 0.86, bytes: 90, meetsTarget: true, ratios: r },
      ]),
    ).toBe('c');
    expect(
      bestStudent([
        { name: 'a', accuracy: 0.9, bytes: 100, meetsTarget: false, ratios: { ...r, macs: 2 } },
        { name: 'b', accuracy: 0.5, bytes: 100, meetsTarget: false, ratios: r },
      ]),
    ).toBe('b');
    expect(
      bestStudent([{ name: 'a', accuracy: 0.9, bytes: 1, meetsTarget: false, ratios: { ...r, bytes: 3 } }]),
    ).toBe(null);
  });

  it('buildReport has the issue shape, ratios against the baseline and the target checks', () => {
    const report = buildReport({
      baseline: { ...base, shipped: 'crnn-gsc12' },
      settings: [setting('small', 0.8, 80000, 30000), setting('small-kd', 0.86, 80000, 14400)],
      latencyMs: { 'crnn-base': 6, small: 1.5, 'small-kd': 2 },
      teachers: {},
      data: {},
      distillationPair: ['small-kd', 'small'],
      smoke: false,
    });
    expect(Object.keys(report.baseline).slice(0, 5)).toEqual([
      'name',
      'accuracy',
      'macs',
      'bytes',
      'shipped',
    ]);
    const kd = report.settings[1];
    expect(kd).toMatchObject({ name: 'small-kd', accuracy: 0.86, macs: 80000, bytes: 14400, latencyMs: 2 });
    expect(kd?.ratios).toEqual({ macs: 11.44, bytes: 20, params: 8.84, latency: 3 });
    expect(kd?.accuracyDeltaPp).toBe(-0.7);
    expect(kd?.meetsTarget).toBe(true);
    expect(report.settings[0]?.meetsTarget).toBe(false); // 9.6× fewer bytes
    expect(report.targets.compressedStudents).toEqual(['small-kd']);
    expect(report.targets.distillationMet).toBe(true);
    expect(report.best).toBe('small-kd');
    expect('shipped' in (report.settings[0] as object)).toBe(false);

    const md = renderMarkdown(report, { command: 'x', images: { macs: 'm.svg', bytes: 'b.svg' } });
    expect(md).toContain('| 2 | **small-kd** |');
    expect(md).toContain('**met** by small-kd');
    expect(md).toContain('![accuracy vs MACs](m.svg)');
    const plots = reportPlots(report);
    expect(plots.macs.startsWith('<svg')).toBe(true);
    expect(plots.bytes).toContain('>base<');
  });
});

describe('compression measurements', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kws-compress-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bytesOnDisk sums model.json and the shards its manifest names', () => {
    const json = JSON.stringify({ weightsManifest: [{ paths: ['a.bin', 'b.bin'], weights: [] }] });
    writeFileSync(join(dir, 'model.json'), json);
    writeFileSync(join(dir, 'a.bin'), new Uint8Array(10));
    writeFileSync(join(dir, 'b.bin'), new Uint8Array(7));
    writeFileSync(join(dir, 'other.bin'), new Uint8Array(100));
    expect(bytesOnDisk(dir)).toEqual({ total: json.length + 17, modelJson: json.length, weights: 17 });
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
  });
});
