import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'features/index': 'src/features/index.ts',
    'models/index': 'src/models/index.ts',
    'distill/index': 'src/distill/index.ts',
    'quantize/index': 'src/quantize/index.ts',
    'streaming/index': 'src/streaming/index.ts',
    'data/index': 'src/data/index.ts',
    'train/index': 'src/train/index.ts',
    'cli/bin': 'src/cli/bin.ts',
    // Data-parallel training starts this file in worker threads (found next to the chunks).
    'gradient-worker': 'src/train/parallel/gradient-worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  splitting: true,
  treeshake: true,
  sourcemap: true,
  clean: true,
  // The worker is located through import.meta.url, which CJS output needs shimmed.
  shims: true,
  target: 'node20',
  external: [/^@tensorflow\//],
});
