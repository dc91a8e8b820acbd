/**
 * `npm run docs:benchmarks`: writes `docs/benchmarks.md` from every `bench/results/*.json` that
 * exists (see `scripts/benchmarks-doc/render.ts`): the targets of the issues with measured figure,
 * ratio and verdict, then one section per benchmark. Missing results are listed as not run yet.
 *
 *   npm run docs:benchmarks -- [--results bench/results] [--out docs/benchmarks.md]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type BenchResults, KNOWN_RESULTS, renderBenchmarksDoc } from './benchmarks-doc/render.js';
import { parseArgs } from './script-args.js';

const { flags } = parseArgs(process.argv.slice(2), []);
const resultsDir = flags.get('results') ?? 'bench/results';
const outFile = flags.get('out') ?? 'docs/benchmarks.md';
const docsDir = dirname(outFile);

const results: Record<string, unknown> = {};
for (const name of existsSync(resultsDir) ? readdirSync(resultsDir).sort() : []) {
  if (!name.endsWith('.json')) continue;
  try {
    results[name] = JSON.parse(readFileSync(join(resultsDir, name), 'utf8'));
  } catch (e) {
    process.stderr.write(`skipping ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}
const pages = KNOWN_RESULTS.flatMap((k) => (k.page === undefined ? [] : [k.page])).filter((p) =>
  existsSync(join(docsDir, p)),
);
writeFileSync(
  outFile,
  renderBenchmarksDoc(results as BenchResults, { pages, command: 'npm run docs:benchmarks' }),
);
process.stderr.write(`wrote ${outFile} from ${Object.keys(results).length} result file(s)\n`);
