import '@tensorflow/tfjs-backend-cpu';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TAIL_MS } from '../../src/cli/detect.js';
import { decodeWav, encodeWav, toMono } from '../../src/features/index.js';
import { crnn, kwsMetadata, saveModel } from '../../src/models/index.js';
import { StreamingKWS } from '../../src/streaming/index.js';
import { noise, TempDirs, tone } from '../data/make-dataset.js';
import { pieces, runCli } from './run-cli.js';

const LABELS = ['_silence_', '_unknown_', 'yes', 'no'];
const dirs = new TempDirs();
let root = '';
let wavPath = '';
let wav: Uint8Array = new Uint8Array(0);
let denseDir = '';
let bareDir = '';
let crnnDir = '';

/** Three seconds: noise, a 700 Hz tone, noise, a 1.9 kHz tone. */
function testAudio(): Float32Array {
  const audio = noise(48000, 3);
  tone(700, 0.6).forEach((v, i) => {
    audio[8000 + i] = (audio[8000 + i] as number) + v;
  });
  audio.set(tone(1900, 0.5), 30000);
  return audio;
}

/** A tiny seeded classifier whose scores move with the input: mean over time → dense. */
function denseModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.globalAveragePooling1d({ inputShape: [101, 40] }),
      tfl.layers.dense({
        units: LABELS.length,
        kernelInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: 3 }),
      }),
    ],
  });
}

const common = ['--threshold', '0.5', '--refractory-ms', '300', '--backend', 'cpu', '--json'];

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  root = dirs.make('kws-cli-detect-');
  wav = encodeWav(testAudio(), 16000);
  wavPath = join(root, 'clip.wav');
  writeFileSync(wavPath, wav);
  denseDir = join(root, 'dense');
  bareDir = join(root, 'bare');
  crnnDir = join(root, 'crnn');
  const dense = denseModel();
  await saveModel(dense, denseDir, { metadata: kwsMetadata(LABELS) });
  await saveModel(dense, bareDir);
  dense.dispose();
  const small = crnn({ numClasses: LABELS.length, hiddenSize: 8, gruLayers: 1, seed: 2 });
  await saveModel(small, crnnDir, { metadata: kwsMetadata(LABELS) });
  small.dispose();
});
afterAll(() => dirs.cleanup());

describe('kws-kit detect', () => {
  it('prints [{ label, score, timeMs }] equal to StreamingKWS on the decoded file, for any --chunk', async () => {
    const model = denseModel();
    const kws = await StreamingKWS.create({ model, labels: LABELS, threshold: 0.5, refractoryMs: 300 });
    const audio = toMono(decodeWav(wav));
    const expected = [...(await kws.push(audio)), ...(await kws.flush({ padMs: DEFAULT_TAIL_MS }))].map(
      ({ label, score, timeMs }) => ({
        label,
        score,
        timeMs,
      }),
    );
    kws.dispose();
    model.dispose();
    expect(expected.length).toBeGreaterThanOrEqual(2);

    const before = tf.memory().numTensors;
    for (const chunk of ['1', '7', '320', '4999', '16000']) {
      const run = await runCli(['detect', wavPath, '--model', denseDir, '--chunk', chunk, ...common]);
      expect(run.code, run.stderr).toBe(0);
      const printed = JSON.parse(run.stdout);
      expect(printed).toEqual(expected);
      for (const d of printed) expect(Object.keys(d).sort()).toEqual(['label', 'score', 'timeMs']);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('streams standard input: a piped WAV with an unknown (0xFFFFFFFF) data size, and --raw PCM', async () => {
    const file = await runCli(['detect', wavPath, '--model', denseDir, ...common]);
    const piped = wav.slice();
    const view = new DataView(piped.buffer);
    view.setUint32(4, 0xffffffff, true);
    view.setUint32(40, 0xffffffff, true); // the canonical 44-byte header's data size
    const stdin = await runCli(
      ['detect', '-', '--model', denseDir, ...common],
      pieces(piped, [1, 45, 1001, 3]),
    );
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(stdin.stdout).toBe(file.stdout);
    expect(stdin.stderr).toBe('');

    const raw = await runCli(
      ['detect', '-', '--raw', '--rate', '16000', '--model', denseDir, ...common],
      pieces(wav.subarray(44), [777, 2]),
    );
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toBe(file.stdout);
  });

  it('resamples input at another rate and warns about a WAV cut short', async () => {
    const at8k = encodeWav(
      testAudio().filter((_, i) => i % 2 === 0),
      8000,
    );
    const cut = at8k.subarray(0, at8k.length - 1001); // declared size larger than what arrives
    const run = await runCli(['detect', '-', '--model', denseDir, ...common], cut);
    expect(run.code, run.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(run.stdout))).toBe(true);
    expect(run.stderr).toMatch(/warning: .*(declares|whole sample frame)/);
  });

  it('prints a readable timeline without --json, and runs a CRNN in stateful mode', async () => {
    const text = await runCli([
      'detect',
      wavPath,
      '--model',
      denseDir,
      '--threshold',
      '0.5',
      '--backend',
      'cpu',
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^\s+time\s+label\s+score\n/);
    expect(text.stdout).toMatch(/\d+\.\d{3} s {2}(yes|no)\s+0\.\d{3}\n/);
    expect(text.stdout).toMatch(/\d+ detection\(s\) in 3\.00 s of audio\n$/);

    const args = ['--model', crnnDir, '--threshold', '0.3', '--backend', 'cpu', '--json'];
    const stateful = await runCli(['detect', wavPath, '--mode', 'stateful', '--chunk', '555', ...args]);
    expect(stateful.code, stateful.stderr).toBe(0);
    const again = await runCli(['detect', wavPath, '--mode', 'stateful', '--chunk', '16000', ...args]);
    expect(again.stdout).toBe(stateful.stdout);
    expect(JSON.parse(stateful.stdout).length).toBeGreaterThan(0);
  });

  it('takes --labels for a model without metadata; exit codes 2 and 3 with clear messages', async () => {
    const labelled = await runCli([
      'detect',
      wavPath,
      '--model',
      bareDir,
      '--labels',
      LABELS.join(','),
      ...common,
    ]);
    const withMetadata = await runCli(['detect', wavPath, '--model', denseDir, ...common]);
    expect(labelled.code).toBe(0);
    expect(labelled.stdout).toBe(withMetadata.stdout);

    const noLabels = await runCli(['detect', wavPath, '--model', bareDir, ...common]);
    expect(noLabels.code).toBe(2);
    expect(noLabels.stderr).toMatch(/has no kws-kit metadata naming its classes; pass --labels/);

    const wrongCount = await runCli(['detect', wavPath, '--model', bareDir, '--labels', 'a,b,c', ...common]);
    expect(wrongCount.code).toBe(3);
    expect(wrongCount.stderr).toMatch(
      /labels has 3 names but the model outputs 4 classes \[SHAPE_MISMATCH\]/,
    );

    const missing = await runCli(['detect', join(root, 'nope.wav'), '--model', denseDir, ...common]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/audio file .*nope\.wav does not exist.*\[NOT_FOUND\]/);

    const noModel = await runCli(['detect', wavPath, '--model', join(root, 'none'), ...common]);
    expect(noModel.code).toBe(3);
    expect(noModel.stderr).toMatch(/\[NOT_FOUND\]/);

    const notWav = await runCli(
      ['detect', '-', '--model', denseDir, ...common],
      new TextEncoder().encode('hello, not audio'),
    );
    expect(notWav.code).toBe(3);
    expect(notWav.stderr).toMatch(
      /not a RIFF\/WAVE file \(for headerless 16-bit PCM use --raw --rate <Hz>\) \[WAV_INVALID\]/,
    );

    const empty = await runCli(['detect', '-', '--model', denseDir, ...common]);
    expect(empty.code).toBe(3);
    expect(empty.stderr).toMatch(/the input is empty: no WAV header \[WAV_TRUNCATED\]/);

    const badChunk = await runCli(['detect', wavPath, '--model', denseDir, '--chunk', '0']);
    expect(badChunk.code).toBe(2);
    expect(badChunk.stderr).toMatch(
      /option '-c, --chunk <samples>' argument '0' is invalid. must be an integer >= 1/,
    );

    const badMode = await runCli(['detect', wavPath, '--model', denseDir, '--mode', 'fast']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toMatch(/Allowed choices are window, stateful/);

    const rateWithoutRaw = await runCli(['detect', wavPath, '--model', denseDir, '--rate', '8000']);
    expect(rateWithoutRaw.code).toBe(2);
    expect(rateWithoutRaw.stderr).toMatch(/--rate applies to --raw input only/);

    const badHop = await runCli(['detect', wavPath, '--model', denseDir, '--hop-ms', '15', ...common]);
    expect(badHop.code).toBe(2);
    expect(badHop.stderr).toMatch(
      /hopMs must be a positive multiple of the front end's hop.*\[INVALID_ARGUMENT\]/,
    );

    const noInput = await runCli(['detect', '--model', denseDir]);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toMatch(/missing required argument 'input'/);
  });

  it("finds 'yes' in a 1 s Speech Commands clip with a pretrained model (the default --tail-ms pads the end)", async () => {
    const clip = fileURLToPath(new URL('../fixtures/audio/yes.wav', import.meta.url));
    for (const model of ['bcresnet1-gsc12', 'crnn-gsc12']) {
      const run = await runCli(['detect', clip, '--model', model, '--json']);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).map((d: { label: string }) => d.label)).toEqual(['yes']);
    }
    // Without the pad a 1 s clip never fills the model's window.
    const bare = await runCli(['detect', clip, '--model', 'bcresnet1-gsc12', '--tail-ms', '0', '--json']);
    expect(JSON.parse(bare.stdout)).toEqual([]);
    const bad = await runCli(['detect', clip, '--model', 'bcresnet1-gsc12', '--tail-ms', '-5']);
    expect(bad.code).toBe(2);
  });
});
