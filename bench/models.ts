/**
 * Model sizes and inference speed, side by side in one run: parameters, MACs (weights and
 * normalisation separately), weight bytes and batch-1 / batch-64 latency of BC-ResNet at the
 * paper's widths and of the CRNN, on the wasm and cpu backends (tfjs-layers predict) and, for the
 * CRNN, kws-kit's compiled plain-TS runtime. Writes bench/results/models.json and
 * docs/benchmarks-models.md.
 *
 * Run: npm run bench:models
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { bcResNet, compileCrnn, crnn, profile } from '../src/models/index.js';
import { createRng } from '../src/random.js';

const PAPER_PARAMS: Record<number, number> = {
  1: 9200,
  1.5: 17200,
  2: 27300,
  3: 54200,
  6: 188000,
  8: 321000,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function latency(model: tfl.LayersModel, batch: number, reps: number): Promise<number> {
  const rng = createRng(batch);
  const x = tf.tensor3d(
    Float32Array.from({ length: batch * 101 * 40 }, () => rng.normal()),
    [batch, 101, 40],
  );
  const run = async () => {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  };
  for (let i = 0; i < 2; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  x.dispose();
  return median(times);
}

interface Row {
  model: string;
  params: number;
  paperParams?: number;
  macs: number;
  normMacs: number;
  weightBytes: number;
  ms: Record<string, number>;
}

tf.enableProdMode();
const rows: Row[] = [];
const configs: { name: string; build: () => tfl.LayersModel; cpu: boolean; paper?: number }[] = [
  ...[1, 1.5, 2, 3, 6, 8].map((w) => ({
    name: `BC-ResNet-${w}`,
    build: () => bcResNet({ width: w, numClasses: 12, inputShape: [101, 40] }),
    cpu: w <= 1,
    paper: PAPER_PARAMS[w],
  })),
  { name: 'CRNN (8 ch, GRU 64×2, attention)', build: () => crnn({ numClasses: 12 }), cpu: true },
];

for (const c of configs) {
  await tf.setBackend('wasm');
  await tf.ready();
  const model = c.build();
  const p = profile(model);
  const bytes = Object.values(p.total.weightBytes).reduce((a, b) => a + b, 0);
  const row: Row = {
    model: c.name,
    params: p.total.trainableParams,
    ...(c.paper ? { paperParams: c.paper } : {}),
    macs: p.total.macs,
    normMacs: p.total.normMacs,
    weightBytes: bytes,
    ms: {},
  };
  row.ms['wasm b1'] = await latency(model, 1, 20);
  row.ms['wasm b64'] = await latency(model, 64, 5);
  if (c.name.startsWith('CRNN')) {
    const runtime = compileCrnn(model);
    const x = Float32Array.from({ length: 101 * 40 }, (_, i) => Math.sin(i));
    for (let i = 0; i < 50; i++) runtime.predict(x, 101);
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      runtime.predict(x, 101);
      times.push(performance.now() - t0);
    }
    row.ms['plain-TS runtime b1'] = median(times);
  }
  const weights = model.getWeights().map((w) => w.clone());
  model.dispose();
  if (c.cpu) {
    await tf.setBackend('cpu');
    const again = c.build();
    again.setWeights(weights);
    row.ms['cpu b1'] = await latency(again, 1, 5);
    again.dispose();
  }
  for (const w of weights) w.dispose();
  rows.push(row);
  console.log(JSON.stringify(row));
}

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version },
  rows,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/models.json', `${JSON.stringify(result, null, 2)}\n`);
const cols = ['wasm b1', 'wasm b64', 'cpu b1', 'plain-TS runtime b1'];
const md = [
  '# Model benchmark',
  '',
  `Measured by \`npm run bench:models\` on ${result.date.slice(0, 10)} (${result.machine.cpus} cores, Node ${result.machine.node}); all rows from one run. Input: 101 frames × 40 log-mels, 12 classes. Parameters are trainable ones (the paper's count); MACs are for one example, from \`profile()\`; latency is the median ms of \`model.predict\` + download.`,
  '',
  `| model | params | paper | MACs | norm MACs | weight bytes | ${cols.join(' | ')} |`,
  `|---|---|---|---|---|---|${cols.map(() => '---').join('|')}|`,
  ...rows.map(
    (r) =>
      `| ${r.model} | ${r.params.toLocaleString('en')} | ${r.paperParams ? r.paperParams.toLocaleString('en') : ''} | ${(r.macs / 1e6).toFixed(2)}M | ${(r.normMacs / 1e6).toFixed(2)}M | ${r.weightBytes.toLocaleString('en')} | ${cols.map((k) => (r.ms[k] !== undefined ? (r.ms[k] as number).toFixed(2) : '')).join(' | ')} |`,
  ),
  '',
].join('\n');
writeFileSync('docs/benchmarks-models.md', md);
console.log(md);
