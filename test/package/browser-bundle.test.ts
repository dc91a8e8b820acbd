/**
 * Browser bundles: every browser-facing entry point (`kws-kit` and `kws-kit/features`, `/models`,
 * `/distill`, `/quantize`, `/streaming`) must bundle with `platform: 'browser'` without errors,
 * even though some of the code they reach (model files, checkpoints, the Speech Commands loader)
 * is Node only. The one place that names a Node built-in is the run-time loader
 * `src/node-builtins.ts`, whose `import()` takes a specifier built at run time, so bundlers leave
 * it alone; no other module may import `node:` anything, statically or with a literal `import()`.
 *
 * The tfjs peer packages are external: they are the app's own dependencies, and their bundling is
 * not kws-kit's concern.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

const ENTRIES: Record<string, string> = {
  'kws-kit': 'src/index.ts',
  'kws-kit/features': 'src/features/index.ts',
  'kws-kit/models': 'src/models/index.ts',
  'kws-kit/distill': 'src/distill/index.ts',
  'kws-kit/quantize': 'src/quantize/index.ts',
  'kws-kit/streaming': 'src/streaming/index.ts',
};

const LOADER = 'src/node-builtins.ts';

/** A `node:` specifier in a string literal (plain, template or either quote). */
const NODE_SPECIFIER = /["'`]node:/g;

/**
 * The bundle with the loader's own code cut out. Unminified esbuild output starts each input
 * file's code with a `// <path>` line, so the loader's part runs from its marker to the next one.
 */
function withoutLoader(code: string): string {
  const start = code.indexOf(`// ${LOADER}\n`);
  if (start < 0) return code;
  const next = code.indexOf('\n// ', start + 1);
  return code.slice(0, start) + (next < 0 ? '' : code.slice(next));
}

interface Bundle {
  code: string;
  errors: number;
  /** Every module the bundler resolved. */
  allInputs: string[];
  /** Modules that put at least one byte into the bundle (tree-shaken modules put none). */
  inputs: string[];
}

async function bundle(entry: string): Promise<Bundle> {
  const result = await build({
    entryPoints: [join(REPO, entry)],
    absWorkingDir: REPO,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['@tensorflow/*'],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new Error(`esbuild wrote no output for ${entry}`);
  const inputs = Object.values(result.metafile.outputs).flatMap((o) =>
    Object.entries(o.inputs)
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
      .map(([input]) => input),
  );
  return {
    code: out.text,
    errors: result.errors.length,
    allInputs: Object.keys(result.metafile.inputs),
    inputs,
  };
}

describe('browser bundles of the entry points', () => {
  for (const [name, entry] of Object.entries(ENTRIES)) {
    it(`${name} (${entry}) bundles for the browser and names node: built-ins only in the loader`, async () => {
      // esbuild rejects (with the unresolvable import in the message) when a bundle fails.
      const { code, errors, inputs, allInputs } = await bundle(entry);
      expect(errors).toBe(0);
      expect(code.length).toBeGreaterThan(1000);
      expect(allInputs.filter((f) => f.startsWith('node:'))).toEqual([]);
      const outside = withoutLoader(code).match(NODE_SPECIFIER) ?? [];
      expect(outside, 'node: specifiers outside src/node-builtins.ts').toEqual([]);
      // Entries that reach Node-only functions carry the loader, and with it exactly one
      // specifier, built at run time.
      if (inputs.includes(LOADER)) {
        expect(code.match(NODE_SPECIFIER) ?? []).toEqual(['`node:']);
        expect(code).toContain('/* @vite-ignore */');
        expect(code).toContain('/* webpackIgnore: true */');
      }
    });
  }

  it('the root entry reaches the Node-only modules, so the checks above cover them', async () => {
    const { inputs, allInputs } = await bundle('src/index.ts');
    // Resolved (where a static node: import used to fail the build), then tree-shaken or kept.
    for (const f of ['src/data/speech-commands.ts', 'src/data/feature-cache.ts', 'src/train/checkpoint.ts']) {
      expect(allInputs).toContain(f);
    }
    expect(inputs).toContain(LOADER);
    expect(inputs).toContain('src/models/io.ts');
    expect(inputs).toContain('src/quantize/export.ts');
  });
});
