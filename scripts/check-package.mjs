// Smoke check of the built package as a consumer sees it: every subpath of the export map resolves
// from ESM and CommonJS, exports what it should, and the front end runs.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const require = createRequire(import.meta.url);
let failures = 0;
function check(condition, what) {
  if (!condition) {
    failures++;
    console.error(`FAIL ${what}`);
  }
}

check(pkg.sideEffects === false, 'package.json has "sideEffects": false');
check(pkg.type === 'module', 'package.json has "type": "module"');
for (const subpath of Object.keys(pkg.exports)) {
  if (subpath === './package.json') continue;
  const specifier = subpath === '.' ? 'kws-kit' : `kws-kit/${subpath.slice(2)}`;
  const esm = await import(specifier);
  const cjs = require(specifier);
  check(typeof esm === 'object' && typeof cjs === 'object', `${specifier} loads as ESM and CJS`);
  check(
    JSON.stringify(Object.keys(esm).sort()) === JSON.stringify(Object.keys(cjs).sort()),
    `${specifier}: ESM and CJS export the same names`,
  );
}

const required = [
  'decodeWav',
  'encodeWav',
  'toMono',
  'resample',
  'melFilterbank',
  'melSpectrogram',
  'logMel',
  'powerToDb',
  'mfcc',
  'specAugment',
  'mixNoise',
  'KwsError',
];
for (const [specifier, names] of [
  ['kws-kit/features', required],
  ['kws-kit', ['KwsError', 'melSpectrogram']],
]) {
  const esm = await import(specifier);
  const cjs = require(specifier);
  for (const name of names) {
    check(name in esm, `${specifier} exports ${name} (ESM)`);
    check(name in cjs, `${specifier} exports ${name} (CJS)`);
  }
}

const { melSpectrogram, logMel, KwsError } = await import('kws-kit/features');
const signal = Float32Array.from({ length: 16000 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 16000));
const mel = logMel(melSpectrogram(signal, { sampleRate: 16000, nFft: 480, hopLength: 160, nMels: 40 }), {
  eps: 1e-6,
});
check(mel.frames === 101 && mel.bins === 40 && mel.data.length === 4040, 'built front end gives 101 × 40');
try {
  melSpectrogram(new Float32Array(0));
  check(false, 'empty input throws');
} catch (e) {
  check(e instanceof KwsError && e.code === 'EMPTY_INPUT', 'empty input throws KwsError EMPTY_INPUT');
}

// Every sourceMappingURL in dist names a map that ships (the embedded-model chunks have none).
const dist = new URL('../dist/', import.meta.url);
for (const name of readdirSync(dist)) {
  if (!/\.c?js$/.test(name)) continue;
  for (const [, map] of readFileSync(new URL(name, dist), 'utf8').matchAll(
    /^\/\/# sourceMappingURL=(.*)$/gm,
  )) {
    check(existsSync(new URL(map, dist)), `dist/${name} points at a source map that exists (${map})`);
  }
}

if (failures > 0) {
  console.error(`package check: ${failures} failure(s)`);
  process.exit(1);
}
console.log('package check: all subpaths load as ESM and CJS; front end runs from dist');
