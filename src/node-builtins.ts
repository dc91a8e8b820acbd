/**
 * Run-time access to Node.js built-in modules for kws-kit's Node-only functions (model files,
 * checkpoints, data folders, tuning journals, data-parallel training on worker threads).
 *
 * Why not `import … from 'node:fs/promises'` or `import('node:fs/promises')`: bundlers resolve
 * both forms while building, so a browser bundle of any entry point that merely reaches such a
 * module fails (Vite: `"…" is not exported by "__vite-browser-external"`, esbuild with
 * `platform: 'browser'`: `Could not resolve "node:fs/promises"`), even when the page never calls
 * a Node-only function. Here the specifier is built at run time and the `import()` carries the
 * ignore comments of Vite and webpack, so bundlers leave it alone; it is resolved only when a
 * Node-only function actually runs. tsup's CommonJS build turns the same `import()` into a
 * run-time `require`, so both package formats load the module the ordinary way.
 *
 * This is the only place in the library (outside the CLI) that names a Node built-in.
 *
 * @internal
 * @packageDocumentation
 */
import { KwsError } from './errors.js';

/** The Node built-ins kws-kit uses, by name without the `node:` scheme, with their types. */
export interface NodeBuiltins {
  'fs/promises': typeof import('node:fs/promises');
  path: typeof import('node:path');
  url: typeof import('node:url');
  worker_threads: typeof import('node:worker_threads');
}

/** Name of a Node built-in kws-kit may load. */
export type NodeBuiltinName = keyof NodeBuiltins;

/** The promise-based file system and path modules, the pair every file-reading function needs. */
export interface NodeFileSystem {
  fs: NodeBuiltins['fs/promises'];
  path: NodeBuiltins['path'];
}

/** What a Node-only function is and what to do instead elsewhere, for the error message. */
export interface NodeOnlyCaller {
  /** The public function that needs Node, e.g. `'loadModel'`. */
  caller: string;
  /** What to use in a browser instead, e.g. `'modelFromArtifacts with bytes you fetched'`. */
  alternative?: string;
}

const cache = new Map<NodeBuiltinName, Promise<unknown>>();

function unavailable(name: NodeBuiltinName, who: NodeOnlyCaller, cause: unknown): KwsError {
  const instead =
    who.alternative === undefined
      ? 'it has no browser equivalent'
      : `in a browser use ${who.alternative} instead`;
  const why = cause instanceof Error ? cause.message : String(cause);
  return new KwsError(
    'UNSUPPORTED_ENVIRONMENT',
    `${who.caller} needs Node.js (built-in module '${name}'), which this ` +
      `environment does not provide (${why}); ${instead}`,
  );
}

/**
 * Loads the Node built-in `name` (e.g. `'fs/promises'` for `node:fs/promises`), once per
 * process.
 *
 * @param name - built-in module name without the `node:` scheme.
 * @param who - the calling public function and its browser alternative, for the error message.
 * @returns the module namespace.
 * @throws {@link KwsError} `UNSUPPORTED_ENVIRONMENT` when the module cannot be loaded (not Node.js, e.g. a
 *   browser), naming `who.caller` and `who.alternative`.
 */
export async function nodeBuiltin<K extends NodeBuiltinName>(
  name: K,
  who: NodeOnlyCaller,
): Promise<NodeBuiltins[K]> {
  let pending = cache.get(name);
  if (pending === undefined) {
    const specifier = `node:${name}`;
    pending = import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
    cache.set(name, pending);
    // A failed load is not cached: the next call reports the error again rather than a stale one.
    pending.catch(() => cache.delete(name));
  }
  try {
    return (await pending) as NodeBuiltins[K];
  } catch (cause) {
    throw unavailable(name, who, cause);
  }
}

/**
 * Loads `node:fs/promises` and `node:path` (see {@link nodeBuiltin}).
 *
 * @throws {@link KwsError} `UNSUPPORTED_ENVIRONMENT` outside Node.js.
 */
export async function nodeFileSystem(who: NodeOnlyCaller): Promise<NodeFileSystem> {
  const [fs, path] = await Promise.all([nodeBuiltin('fs/promises', who), nodeBuiltin('path', who)]);
  return { fs, path };
}
