/**
 * Where the gradient worker's entry file is, and how to start it, in the three ways kws-kit runs:
 *
 * - from the package build (`dist/`): the entry is built as its own file,
 *   `dist/gradient-worker.js` (ESM) and `dist/gradient-worker.cjs` (CommonJS). The code that
 *   starts it may sit in a shared chunk at `dist/` or in an entry one folder down
 *   (`dist/train/index.js`), so both `./` and `../` are tried, with the extension of the running
 *   file (`.cjs` in the CommonJS build).
 * - from TypeScript sources under vitest or tsx: `gradient-worker.ts` next to this file. Node
 *   cannot run TypeScript in a worker by itself and Node 20 does not pass `--import` loaders on
 *   to worker threads, so a two-line bootstrap registers tsx's loader in the worker first (tsx is
 *   a development dependency, resolved from the working directory: run from the repository
 *   root; published code never takes this path).
 *
 * @internal
 * @packageDocumentation
 */
import { KwsError } from '../../errors.js';
import { nodeBuiltin } from '../../node-builtins.js';

/** Arguments for `new Worker(script, options)`. */
export interface WorkerLaunch {
  /** The entry file's URL, or bootstrap source code when `evalCode` is true. */
  script: URL | string;
  /** Whether `script` is source code (`new Worker(code, { eval: true })`). */
  evalCode: boolean;
}

const ENTRY = 'gradient-worker';
const WHO = { caller: 'train with workers > 1', alternative: 'workers: 1' };

/**
 * URL of the running module. The CommonJS build gets `import.meta.url` from tsup's shim
 * (`shims: true`), which derives it from `__filename`.
 */
function moduleUrl(): string {
  return import.meta.url;
}

/**
 * How to start a gradient worker from the running copy of kws-kit.
 *
 * @throws {@link KwsError} `NOT_FOUND` when the built entry file is missing next to the build
 *   (a bundler that inlined kws-kit without copying `gradient-worker.js`);
 *   `UNSUPPORTED_ENVIRONMENT` outside Node.js.
 */
export async function gradientWorkerLaunch(): Promise<WorkerLaunch> {
  const here = moduleUrl();
  const path = new URL(here).pathname;
  if (path.endsWith('.ts')) {
    const entry = new URL(`./${ENTRY}.ts`, here).href;
    const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return { script: code, evalCode: true };
  }
  const ext = path.endsWith('.cjs') ? '.cjs' : '.js';
  const [fs, url] = await Promise.all([nodeBuiltin('fs/promises', WHO), nodeBuiltin('url', WHO)]);
  const candidates = [new URL(`./${ENTRY}${ext}`, here), new URL(`../${ENTRY}${ext}`, here)];
  for (const candidate of candidates) {
    try {
      await fs.access(url.fileURLToPath(candidate));
      return { script: candidate, evalCode: false };
    } catch {
      // Try the next place.
    }
  }
  throw new KwsError(
    'NOT_FOUND',
    `the gradient worker entry (${ENTRY}${ext}) is not next to ${here} or one folder up; ` +
      'workers > 1 needs the kws-kit package files as published (use workers: 1 otherwise)',
  );
}
