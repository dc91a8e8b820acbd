/**
 * Vite config of the browser example. kws-kit is taken from the repository's source (no package
 * build needed); the tfjs wasm binaries and the model folder are served next to the page, from
 * the dev server and in the build output alike.
 *
 * Model folder: `KWS_MODEL_DIR` (a tfjs layers-model folder with kws-kit metadata, e.g. written
 * by `saveModel(model, dir, { metadata: kwsMetadata(labels) })`), served as `model/`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const wasmDir = join(repo, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');

/** Served path → file on disk. */
type StaticFiles = Map<string, string>;

function staticFiles(): StaticFiles {
  const files: StaticFiles = new Map();
  for (const name of readdirSync(wasmDir)) {
    if (name.endsWith('.wasm')) files.set(`tfjs-wasm/${name}`, join(wasmDir, name));
  }
  const modelDir = process.env.KWS_MODEL_DIR;
  if (modelDir !== undefined && modelDir !== '') {
    const dir = resolve(modelDir);
    if (!existsSync(join(dir, 'model.json'))) {
      throw new Error(`KWS_MODEL_DIR=${modelDir}: no model.json there`);
    }
    for (const name of readdirSync(dir)) {
      if (name === 'model.json' || name.endsWith('.bin')) files.set(`model/${name}`, join(dir, name));
    }
  }
  return files;
}

const MIME: Record<string, string> = {
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
};

/** Serves `files` from the dev server and emits them into the build output. */
function serveFiles(files: StaticFiles): Plugin {
  return {
    name: 'kws-example-static-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').replace(/^\/+/, '');
        const file = files.get(path);
        if (file === undefined || !statSync(file).isFile()) return next();
        const ext = path.slice(path.lastIndexOf('.'));
        res.setHeader('Content-Type', MIME[ext] ?? 'application/octet-stream');
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      for (const [fileName, file] of files) {
        this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
      }
    },
  };
}

export default defineConfig({
  root: here,
  // Relative URLs, so the build works from any folder it is served from.
  base: './',
  resolve: {
    alias: [
      { find: /^kws-kit$/, replacement: join(repo, 'src/index.ts') },
      { find: /^kws-kit\/(.+)$/, replacement: join(repo, 'src/$1/index.ts') },
    ],
  },
  plugins: [serveFiles(staticFiles())],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // tfjs is large; the example's point is not the bundle size (see test/package for that).
    chunkSizeWarningLimit: 4096,
  },
  server: { fs: { allow: [repo] } },
});
