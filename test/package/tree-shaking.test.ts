/**
 * Tree-shaking: a browser bundle of `import { melSpectrogram } from 'kws-kit/features'` must hold
 * the front end only — no tfjs (not even tfjs-core, which `kws-kit/features` imports for its
 * tensor ops), no tfjs-layers, no model, streaming or training code — and stay small.
 *
 * `kws-kit/features` is resolved to `src/features/index.ts` (esbuild alias), so the test needs no
 * package build; `sideEffects: false` in package.json and side-effect-free modules are what make
 * this work for the built package as well.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { melSpectrogram } from '../../src/features/index.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Largest allowed bundle, in bytes (minified, not gzipped). Measured 13,883 bytes (esbuild 0.27,
 * November 2026); the bound leaves ~1.5x room for the front end to grow.
 */
const MAX_BUNDLE_BYTES = 21_000;

/** Strings that only model or tfjs-layers code contains: layer class names kept as literals. */
const MODEL_STRINGS = [
  'SubSpectralNorm',
  'SpectralConv',
  'TemporalConv',
  'BatchNormalization',
  'LayersModel',
];

let code = '';
let metafile: Metafile;
let work = '';

beforeAll(async () => {
  const result = await build({
    stdin: {
      contents: "export { melSpectrogram } from 'kws-kit/features';",
      resolveDir: REPO,
      sourcefile: 'entry.ts',
      loader: 'ts',
    },
    alias: { 'kws-kit/features': join(REPO, 'src/features/index.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    treeShaking: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error('esbuild wrote no output');
  code = out.text;
  metafile = result.metafile;
  work = mkdtempSync(join(tmpdir(), 'kws-tree-shaking-'));
});

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

/** Source files that put at least one byte into the bundle. */
function contributingInputs(): string[] {
  const files = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput > 0) files.add(input);
    }
  }
  return [...files].sort();
}

describe("bundling melSpectrogram from 'kws-kit/features'", () => {
  it('pulls in no package from node_modules (no tfjs-core, no tfjs-layers)', () => {
    const inputs = contributingInputs();
    expect(inputs.filter((f) => f.includes('node_modules'))).toEqual([]);
    expect(code).not.toContain('tfjs-layers');
    expect(code).not.toContain('@tensorflow');
  });

  it('pulls in front-end code only: no models, streaming, training or distillation', () => {
    const inputs = contributingInputs().filter((f) => f !== 'entry.ts');
    const allowed = /^src\/(features\/[\w-]+\.ts|errors\.ts|validate\.ts|random\.ts)$/;
    expect(inputs.filter((f) => !allowed.test(f))).toEqual([]);
    expect(inputs).toContain('src/features/mel-spectrogram.ts');
    for (const s of MODEL_STRINGS) expect(code, s).not.toContain(s);
  });

  it(`stays under ${MAX_BUNDLE_BYTES} bytes`, () => {
    const bytes = Buffer.byteLength(code);
    expect(bytes).toBeGreaterThan(1000);
    expect(bytes).toBeLessThan(MAX_BUNDLE_BYTES);
  });

  it('computes the same mel spectrogram as the source, bit for bit', async () => {
    const file = join(work, 'bundle.mjs');
    writeFileSync(file, code);
    const bundled = (await import(pathToFileURL(file).href)) as { melSpectrogram: typeof melSpectrogram };
    const signal = Float32Array.from(
      { length: 4000 },
      (_, i) => Math.sin(i * 0.05) * 0.5 + Math.sin(i * 0.31) * 0.1,
    );
    const options = { nFft: 480, hopLength: 160, nMels: 40 };
    const expected = melSpectrogram(signal, options);
    const actual = bundled.melSpectrogram(signal, options);
    expect(actual.frames).toBe(expected.frames);
    expect(actual.bins).toBe(expected.bins);
    expect(Array.from(actual.data)).toEqual(Array.from(expected.data));
  });
});
