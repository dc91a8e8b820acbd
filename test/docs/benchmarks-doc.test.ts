import { describe, expect, it } from 'vitest';
import { checkTargets, renderBenchmarksDoc } from '../../scripts/benchmarks-doc/render.js';

// Two small result files: the front end beats torchaudio but misses 3000× real time; one
// BC-ResNet-1 training run below REFERENCE.md's 89.4 %.
const fixture = {
  'features.json': {
    date: '2026-01-02T03:04:05.000Z',
    machine: { cpus: 2, model: 'Test CPU', node: 'v20.0.0' },
    rows: [
      { method: 'kws-kit pure-TS logMelSpectrogram', batch: 1, msPerClip: 0.5, realTime: 2000 },
      { method: 'torchaudio MelSpectrogram + log (1 thread)', batch: 1, msPerClip: 0.6, realTime: 1666.7 },
    ],
  },
  'train-gsc-bc-resnet-1.json': {
    model: 'bc-resnet',
    parameters: { all: 11648, trainable: 9232, macs: 2482156 },
    recipe: { epochs: 25 },
    bestEpoch: 21,
    bestValidationAccuracy: 0.9,
    meanExamplesPerSecond: 60,
    trainingSeconds: 600,
  },
};

describe('benchmarks doc', () => {
  const checks = checkTargets(fixture);
  const byTarget = (prefix: string) => {
    const c = checks.find((x) => x.target.startsWith(prefix));
    if (c === undefined) throw new Error(`no target ${prefix}`);
    return c;
  };

  it('checks the targets it has figures for, with ratios oriented so that ≥ 1 meets them', () => {
    const speed = byTarget('Pure-TS log-mel at least as fast');
    expect(speed.verdict).toBe('met');
    expect(speed.ratio).toBeCloseTo(0.6 / 0.5, 12);
    const realTime = byTarget('Pure-TS log-mel ≥ 3000×');
    expect(realTime.verdict).toBe('not met');
    expect(realTime.ratio).toBeCloseTo(2000 / 3000, 12);
    const bcr = byTarget('BC-ResNet-1 best validation');
    expect(bcr.verdict).toBe('met');
    expect(bcr.ratio).toBeCloseTo(0.9 / 0.894, 12);
    expect(bcr.measured).toBe('90.0 % (25 epochs)');
  });

  it('marks every target without a result file as not run yet, with no figure', () => {
    const notRun = checks.filter((c) => c.verdict === 'not run yet');
    expect(notRun.length).toBe(checks.length - 3);
    for (const c of notRun) {
      expect(c.measured).toBeNull();
      expect(c.ratio).toBeNull();
    }
    expect(byTarget('CRNN best validation').verdict).toBe('not run yet');
    expect(byTarget('A student with ≥ 10×').file).toBe('compression.json');
  });

  it('renders the verdicts, the provenance, the links and the missing files', () => {
    const md = renderBenchmarksDoc(fixture, { pages: ['benchmarks-features.md'], command: 'npm run x' });
    expect(md).toContain(`2 of ${checks.length} targets met, 1 not met, ${checks.length - 3} not run yet.`);
    expect(md).toContain(
      '| Pure-TS log-mel ≥ 3000× real time | issue 2 | 2,000× real time | 0.67 | ❌ not met | `features.json` |',
    );
    expect(md).toContain('| 0.50 ms vs torchaudio 0.60 ms per 1 s clip | 1.20 | ✅ met |');
    expect(md).toContain(
      '| CRNN best validation accuracy on gsc-dev ≥ 86.7 % | REFERENCE.md (supersedes issue 3) | — | — | ⏳ not run yet |',
    );
    expect(md).toContain('_measured 2026-01-02T03:04:05.000Z; 2 CPUs, Test CPU, Node v20.0.0._');
    expect(md).toContain('Details: [benchmarks-features.md](benchmarks-features.md).');
    expect(md).not.toContain('compression.md)');
    expect(md).toContain(
      '| train-gsc-bc-resnet-1.json | bc-resnet | 9,232 | 2,482,156 | 25 | 21 | 90.0 % | 60.0 | 10.0 min |',
    );
    expect(md).toContain('- `compression.json` (Compression)');
    expect(md).toContain('- `models.json` (Models: size, cost and inference latency)');
    expect(md).not.toContain('## Compression');
  });
});
