/**
 * Real-browser test of `examples/browser`: builds the example with Vite, serves it, and runs it
 * in Chromium (through playwright-core) with a fake microphone playing a WAV file in a loop.
 *
 *   npm run test:browser [-- [--model DIR] [--backend wasm|webgl|cpu] [--threshold 0.8] [--keep]]
 *
 * Two runs, each on a track of TRACK_MS of low noise built from the committed keyword clip:
 * 1. the keyword clip placed at KEYWORD_AT_MS: the page must report the keyword first, within
 *    ±TOLERANCE_MS of the time the same model reports for the same track offline in Node
 *    (StreamingKWS on the wasm backend, the reference path). Chromium loops the file, so times
 *    are compared modulo the track length.
 * 2. the same track without the keyword: no detection in the first NOISE_CHECK_MS of audio.
 *
 * The model is the page's default, the pretrained `bcresnet1-gsc12` embedded in kws-kit, or with
 * `--model DIR` a tfjs layers-model folder with kws-kit metadata (served as `model/` and passed
 * to the page as `?model=model/model.json`). Chromium: `chromium` on the PATH, or `CHROMIUM_PATH`.
 * Exit code 0 when every check passes, 1 when one fails, 2 when the test cannot run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { decodeWav, encodeWav, resample, toMono } from '../src/features/index.js';
import { loadModel, loadPretrained, readKwsMetadata, registerKwsLayers } from '../src/models/index.js';
import { createRng } from '../src/random.js';
import { StreamingKWS } from '../src/streaming/index.js';
import { parseArgs } from './script-args.js';

const REPO = resolve(import.meta.dirname, '..');
/** 1 s Speech Commands clip of the keyword (see test/fixtures/audio/README.md). */
const KEYWORD_CLIP = join(REPO, 'test/fixtures/audio/yes.wav');
const KEYWORD = 'yes';
/** The page's default model. */
const PRETRAINED = 'bcresnet1-gsc12';
const SAMPLE_RATE = 16_000;
/** Length of each test track; Chromium plays it in a loop. */
const TRACK_MS = 3000;
/** Where the 1 s keyword clip starts in the keyword track. */
const KEYWORD_AT_MS = 1000;
/** Largest allowed gap between the page's detection time and the offline reference's. */
const TOLERANCE_MS = 300;
/** Audio the noise run listens to (three loops of the track). */
const NOISE_CHECK_MS = 3 * TRACK_MS;
/** Standard deviation of the white-noise bed: about −50 dBFS, quiet but not digital silence. */
const NOISE_STD = 0.003;
/** Longest wait for the page to load the model and start listening. */
const READY_TIMEOUT_MS = 90_000;
/** Longest time without new microphone audio once listening. */
const STALL_TIMEOUT_MS = 10_000;

const { flags } = parseArgs(process.argv.slice(2), ['keep']);
const backend = flags.get('backend') ?? 'wasm';
/** Detection threshold, page and reference alike (default: the library's). */
const threshold = flags.has('threshold') ? Number(flags.get('threshold')) : undefined;

interface PageDetection {
  label: string;
  score: number;
  timeMs: number;
}
interface PageState {
  ready: boolean;
  detections: PageDetection[];
  error?: string;
  backend?: string;
  sampleRate?: number;
  streamMs: number;
}

class SetupError extends Error {}

function log(message: string): void {
  console.log(`[test:browser] ${message}`);
}

function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new SetupError(
      'chromium not found on the PATH (apt-get install -y chromium) and CHROMIUM_PATH unset',
    );
  }
}

/** The model folder given with `--model`, or null for the page's default pretrained model. */
function modelDir(): string | null {
  const dir = flags.get('model');
  if (dir === undefined) return null;
  if (!existsSync(join(dir, 'model.json'))) throw new SetupError(`--model ${dir}: no model.json there`);
  return resolve(dir);
}

/** The same model the page loads, for the reference run. */
function loadReferenceModel(dir: string | null): Promise<LayersModel> {
  return dir === null ? loadPretrained(PRETRAINED) : loadModel(dir);
}

/** The keyword clip as 16 kHz mono samples. */
function keywordClip(): Float32Array {
  const audio = decodeWav(readFileSync(KEYWORD_CLIP));
  const mono = toMono(audio);
  return audio.sampleRate === SAMPLE_RATE ? mono : resample(mono, audio.sampleRate, SAMPLE_RATE);
}

/** The noise track and the same track with the keyword clip added at KEYWORD_AT_MS. */
function buildTracks(): { keyword: Float32Array; noise: Float32Array } {
  const length = (TRACK_MS * SAMPLE_RATE) / 1000;
  const rng = createRng(2018);
  const noise = Float32Array.from({ length }, () => NOISE_STD * rng.normal());
  const keyword = noise.slice();
  const clip = keywordClip();
  const at = (KEYWORD_AT_MS * SAMPLE_RATE) / 1000;
  for (let i = 0; i < clip.length && at + i < length; i++)
    keyword[at + i] = (keyword[at + i] ?? 0) + (clip[i] ?? 0);
  return { keyword, noise };
}

/** Detections of StreamingKWS in Node on `loops` repetitions of `track` (the reference path). */
async function referenceDetections(
  dir: string | null,
  track: Float32Array,
  loops: number,
): Promise<PageDetection[]> {
  const model = await loadReferenceModel(dir);
  try {
    const metadata = readKwsMetadata(model.getUserDefinedMetadata());
    if (metadata === null)
      throw new SetupError(`${dir ?? PRETRAINED}: the model has no kws-kit metadata (labels)`);
    const kws = await StreamingKWS.create({ model, labels: metadata.labels, threshold });
    const found: PageDetection[] = [];
    kws.on('detection', (d) => found.push({ label: d.label, score: d.score, timeMs: d.timeMs }));
    const chunk = SAMPLE_RATE / 10;
    for (let loop = 0; loop < loops; loop++) {
      for (let i = 0; i < track.length; i += chunk) await kws.push(track.subarray(i, i + chunk), SAMPLE_RATE);
    }
    await kws.flush();
    kws.dispose();
    return found;
  } finally {
    model.dispose();
  }
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

/** A static file server for `root` on a free localhost port. */
async function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

/**
 * Opens the page in Chromium with `wav` as the microphone, presses Start, and returns the page's
 * state once `done(state)` holds or `maxStreamMs` of audio has been pushed.
 */
async function runPage(
  executablePath: string,
  url: string,
  query: string,
  wav: string,
  maxStreamMs: number,
  done: (state: PageState) => boolean,
): Promise<PageState> {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
    ],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log(`  page ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => log(`  page error: ${e.message}`));
    await page.goto(`${url}index.html?${query}`);
    const start = page.locator('#start');
    await page.waitForFunction(
      () =>
        window.__kws.error !== undefined || !document.querySelector<HTMLButtonElement>('#start')?.disabled,
      undefined,
      { timeout: READY_TIMEOUT_MS },
    );
    const loaded = await page.evaluate(() => window.__kws.error);
    if (loaded !== undefined) throw new Error(`the page failed to load: ${loaded}`);
    log(`  model loaded; starting the microphone`);
    await start.click();
    await page.waitForFunction(() => window.__kws.ready || window.__kws.error !== undefined, undefined, {
      timeout: READY_TIMEOUT_MS,
    });
    log(`  listening`);
    let lastStreamMs = -1;
    let stalledSince = performance.now();
    for (;;) {
      const state = await page.evaluate(() => JSON.parse(JSON.stringify(window.__kws)) as PageState);
      if (state.error !== undefined) throw new Error(`the page reported an error: ${state.error}`);
      if (done(state) || state.streamMs >= maxStreamMs) return state;
      // Audio must keep flowing: the fake microphone runs in real time.
      if (state.streamMs > lastStreamMs) {
        lastStreamMs = state.streamMs;
        stalledSince = performance.now();
      } else if (performance.now() - stalledSince > STALL_TIMEOUT_MS) {
        throw new Error(
          `no microphone audio for ${STALL_TIMEOUT_MS} ms (after ${state.streamMs} ms of audio)`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await browser.close();
  }
}

declare global {
  interface Window {
    __kws: PageState;
  }
}

/** Signed distance from `a` to `b` on a circle of circumference `period` (in (−period/2, period/2]). */
function circularGap(a: number, b: number, period: number): number {
  const d = (((b - a) % period) + period) % period;
  return d > period / 2 ? d - period : d;
}

async function main(): Promise<number> {
  const started = performance.now();
  const executablePath = chromiumPath();
  const dir = modelDir();
  const work = mkdtempSync(join(tmpdir(), 'kws-browser-test-'));
  const failures: string[] = [];
  let server: Server | undefined;
  try {
    tf.enableProdMode();
    if (!(await tf.setBackend('wasm'))) throw new SetupError('the wasm backend failed to start in Node');
    registerKwsLayers();

    const tracks = buildTracks();
    const keywordWav = join(work, 'keyword.wav');
    const noiseWav = join(work, 'noise.wav');
    writeFileSync(keywordWav, encodeWav(tracks.keyword, SAMPLE_RATE, { bitDepth: 16 }));
    writeFileSync(noiseWav, encodeWav(tracks.noise, SAMPLE_RATE, { bitDepth: 16 }));

    // Offline reference on the 16-bit audio the browser gets.
    const asPlayed = (file: string): Float32Array => toMono(decodeWav(readFileSync(file)));
    const reference = await referenceDetections(dir, asPlayed(keywordWav), 2);
    const expected = reference.find((d) => d.label === KEYWORD);
    log(
      `model ${dir ?? PRETRAINED}; reference (Node, wasm) on the keyword track: ${JSON.stringify(reference)}`,
    );
    if (expected === undefined || expected.timeMs >= TRACK_MS) {
      throw new SetupError(
        `the model does not detect '${KEYWORD}' in the keyword track offline (first loop); ` +
          'a better model or clip is needed before the browser can be checked',
      );
    }
    // The reference event must come from the keyword: after its start, and before the window
    // that ends a smoothing span after the clip's end has moved past it.
    if (expected.timeMs <= KEYWORD_AT_MS || expected.timeMs > KEYWORD_AT_MS + 2000) {
      throw new SetupError(
        `the offline detection at ${expected.timeMs} ms is not on the keyword (${KEYWORD_AT_MS}-${KEYWORD_AT_MS + 1000} ms)`,
      );
    }
    const referenceNoise = await referenceDetections(dir, asPlayed(noiseWav), NOISE_CHECK_MS / TRACK_MS);
    if (referenceNoise.length > 0) {
      throw new SetupError(`the model fires on the noise track offline: ${JSON.stringify(referenceNoise)}`);
    }

    const buildStart = performance.now();
    // vite.config.ts serves this folder as model/.
    if (dir === null) delete process.env.KWS_MODEL_DIR;
    else process.env.KWS_MODEL_DIR = dir;
    const query = new URLSearchParams({ backend });
    if (dir !== null) query.set('model', 'model/model.json');
    if (threshold !== undefined) query.set('threshold', String(threshold));
    const outDir = join(work, 'dist');
    await build({
      configFile: join(REPO, 'examples/browser/vite.config.ts'),
      logLevel: 'error',
      build: { outDir, emptyOutDir: true },
    });
    log(`built examples/browser in ${((performance.now() - buildStart) / 1000).toFixed(1)} s`);
    const served = await serve(outDir);
    server = served.server;

    // 1. Keyword track: the first detection is the keyword, at the reference time (mod the loop).
    const t1 = performance.now();
    const withKeyword = await runPage(
      executablePath,
      served.url,
      query.toString(),
      keywordWav,
      2 * TRACK_MS + 1500,
      (s) => s.detections.length > 0,
    );
    const first = withKeyword.detections[0];
    log(
      `keyword run (${withKeyword.backend}, ${withKeyword.sampleRate} Hz, ${(withKeyword.streamMs / 1000).toFixed(1)} s ` +
        `of audio, ${((performance.now() - t1) / 1000).toFixed(1)} s): detections ${JSON.stringify(withKeyword.detections)}`,
    );
    if (first === undefined) {
      failures.push(`no detection in ${(withKeyword.streamMs / 1000).toFixed(1)} s of the keyword track`);
    } else {
      const gap = circularGap(expected.timeMs, first.timeMs, TRACK_MS);
      const verdict = `'${first.label}' at ${first.timeMs.toFixed(0)} ms (${(((first.timeMs % TRACK_MS) + TRACK_MS) % TRACK_MS).toFixed(0)} ms into the loop); reference '${KEYWORD}' at ${expected.timeMs.toFixed(0)} ms; gap ${gap.toFixed(0)} ms`;
      if (first.label !== KEYWORD) failures.push(`first detection is ${verdict}`);
      else if (Math.abs(gap) > TOLERANCE_MS)
        failures.push(`detection off by more than ${TOLERANCE_MS} ms: ${verdict}`);
      else log(`PASS keyword: ${verdict} (tolerance ±${TOLERANCE_MS} ms)`);
    }

    // 2. Noise track: nothing in NOISE_CHECK_MS of audio.
    const t2 = performance.now();
    const noise = await runPage(
      executablePath,
      served.url,
      query.toString(),
      noiseWav,
      NOISE_CHECK_MS,
      (s) => s.detections.length > 0,
    );
    log(
      `noise run (${((performance.now() - t2) / 1000).toFixed(1)} s): ${(noise.streamMs / 1000).toFixed(1)} s of audio, ` +
        `detections ${JSON.stringify(noise.detections)}`,
    );
    if (noise.detections.length > 0)
      failures.push(`false detection on the noise track: ${JSON.stringify(noise.detections)}`);
    else if (noise.streamMs < NOISE_CHECK_MS)
      failures.push(`the noise run stopped after ${noise.streamMs} ms`);
    else log(`PASS noise: no detection in ${(noise.streamMs / 1000).toFixed(1)} s`);
  } catch (e) {
    if (e instanceof SetupError) {
      log(`CANNOT RUN: ${e.message}`);
      return 2;
    }
    failures.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  } finally {
    server?.close();
    if (flags.has('keep')) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    for (const f of failures) log(`FAIL ${f}`);
    log(`failed (${seconds} s)`);
    return 1;
  }
  log(`passed (${seconds} s)`);
  return 0;
}

process.exitCode = await main();
