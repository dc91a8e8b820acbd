import '@tensorflow/tfjs-backend-cpu';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inferArchitecture,
  packPretrained,
  repackPretrained,
  verifyArchitecture,
  writeCatalog,
} from '../../scripts/pack-pretrained.js';
import { runEval } from '../../src/cli/eval.js';
import { KwsError } from '../../src/errors.js';
import { DEFAULT_FRONT_END } from '../../src/features/index.js';
import {
  bcResNet,
  crnn,
  kwsMetadata,
  modelFromArtifacts,
  profile,
  readKwsMetadata,
  registerKwsLayers,
} from '../../src/models/index.js';
import { decodeBase64, encodeBase64 } from '../../src/models/pretrained/base64.js';
import {
  type EmbeddedModel,
  embeddedArtifacts,
  loadEmbeddedModel,
} from '../../src/models/pretrained/embedded-model.js';
import {
  listPretrained,
  loadPretrained,
  pretrainedArtifacts,
  pretrainedCard,
} from '../../src/models/pretrained/load-pretrained.js';
import { renderModelCard, SPEECH_COMMANDS_ATTRIBUTION } from '../../src/models/pretrained/model-card.js';
import {
  calibrateActivations,
  exportQuantized,
  pruneModel,
  registerQuantizeLayers,
  simulateInt8,
} from '../../src/quantize/index.js';
import { createRng } from '../../src/random.js';
import { makeSmallDataset, TempDirs } from '../data/make-dataset.js';

const REPO = join(__dirname, '../..');
const dirs = new TempDirs();

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});
afterAll(() => dirs.cleanup());

function randomInput(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => rng.normal() * 3 - 8),
    shape,
  );
}

function predict(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function expectKwsError(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    expect((e as KwsError).code).toBe(code);
    if (message) expect((e as KwsError).message).toMatch(message);
    return;
  }
  throw new Error('expected a KwsError');
}

async function expectKwsRejection(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KwsError);
  expect((e as KwsError).code).toBe(code);
  if (message) expect((e as KwsError).message).toMatch(message);
}

/** The weight shards a model.json names, concatenated. */
function shardBytes(dir: string): Uint8Array {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  return new Uint8Array(Buffer.concat(paths.map((p) => readFileSync(join(dir, p)))));
}

describe('base64', () => {
  it('round-trips every length 0…40 and 3000 bytes, identical to Node Buffer base64', () => {
    const rng = createRng(11);
    for (const n of [...Array.from({ length: 41 }, (_, i) => i), 3000, 3073]) {
      const bytes = Uint8Array.from({ length: n }, () => rng.int(256));
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      const back = decodeBase64(text);
      expect(back).toEqual(bytes);
      expect(back.byteOffset).toBe(0);
      expect(back.buffer.byteLength).toBe(n);
    }
    expect(decodeBase64('AP8=')).toEqual(Uint8Array.from([0, 255]));
  });

  it('rejects text that is not base64 with INVALID_ARGUMENT', () => {
    expectKwsError(() => decodeBase64('abc'), 'INVALID_ARGUMENT', /divisible by 4/);
    expectKwsError(() => decodeBase64('ab$d'), 'INVALID_ARGUMENT', /"\$" at offset 2/);
    expectKwsError(() => decodeBase64('a=bc'), 'INVALID_ARGUMENT', /misplaced padding/);
    expectKwsError(() => decodeBase64('ab=c'), 'INVALID_ARGUMENT', /misplaced padding/);
    expectKwsError(() => decodeBase64('abcé'), 'INVALID_ARGUMENT');
  });
});

describe('packing a model (scripts/pack-pretrained.ts)', () => {
  const labels = ['yes', 'no', '_unknown_'];
  const options = { width: 0.25, numClasses: 3, causal: false, inputShape: [24, 40] as [number, number] };

  it('writes plain files, a module with the same bytes and a card; the module decodes to bit-identical predictions', async () => {
    const before = tf.memory().numTensors;
    const root = dirs.make('kws-pack-');
    const targets = { pretrainedDir: join(root, 'pretrained'), moduleDir: join(root, 'modules') };
    const model = bcResNet({ ...options, seed: 21 });
    const x = randomInput([3, 24, 40], 5);
    const expected = predict(model, x);
    const packed = await packPretrained(
      {
        name: 'tiny-test',
        model,
        labels,
        architecture: { family: 'bc-resnet', options },
        recipe: { optimizer: 'sgd', epochs: 2 },
        clips: { train: 10, validation: 4 },
        metrics: { validationAccuracy: 0.75, source: 'a test' },
        generatedBy: 'vitest',
        kwsKitVersion: '0.0.0-test',
      },
      targets,
    );
    const totals = profile(model).total;
    model.dispose();

    const mod = (await import(pathToFileURL(packed.modulePath).href)) as EmbeddedModel;
    const modelDir = join(targets.pretrainedDir, 'tiny-test');
    expect(mod.modelJson).toBe(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    expect(decodeBase64(mod.weightsBase64)).toEqual(shardBytes(modelDir));
    expect(readFileSync(packed.modulePath, 'utf8')).toMatch(/^\/\/ Generated by `vitest`/);

    const artifacts = embeddedArtifacts(mod, 'tiny-test');
    expect(readKwsMetadata(artifacts.userDefinedMetadata)?.labels).toEqual(labels);
    const loaded = await modelFromArtifacts(artifacts);
    expect(predict(loaded, x)).toEqual(expected);
    loaded.dispose();
    x.dispose();

    const { card } = packed;
    expect(card.profile.params).toBe(totals.params);
    expect(card.profile.macs).toBe(totals.macs);
    expect(card.profile.weightBytes).toBe(4 * totals.params);
    expect(card.profile.bytesOnDisk).toBe(card.profile.weightBytes + card.profile.modelJsonBytes);
    expect(card.frontEnd).toEqual(DEFAULT_FRONT_END);
    expect(card.inputShape).toEqual([24, 40]);
    expect(JSON.parse(readFileSync(join(modelDir, 'card.json'), 'utf8'))).toEqual(card);
    const markdown = readFileSync(join(modelDir, 'MODEL_CARD.md'), 'utf8');
    expect(markdown).toBe(renderModelCard(card));
    expect(markdown).toContain(SPEECH_COMMANDS_ATTRIBUTION);
    expect(markdown).toContain('CC BY 4.0');
    expect(markdown).toContain('75.00 %');
    expect(markdown).toContain(`| parameters | ${totals.params.toLocaleString('en-US')} |`);
    expect(markdown).toContain('`_unknown_`');

    const catalog = writeCatalog(targets, 'vitest');
    expect(catalog.names).toEqual(['tiny-test']);
    const text = readFileSync(catalog.path, 'utf8');
    expect(text).toContain("load: () => import('./tiny-test.js')");
    expect(text).toContain('"name":"tiny-test"');

    // A second card sharing labels, front end and data: each shared value is written once.
    const twinDir = join(targets.pretrainedDir, 'tiny-twin');
    mkdirSync(twinDir, { recursive: true });
    writeFileSync(join(twinDir, 'card.json'), JSON.stringify({ ...card, name: 'tiny-twin' }));
    copyFileSync(packed.modulePath, join(targets.moduleDir, 'tiny-twin.ts'));
    expect(writeCatalog(targets, 'vitest').names).toEqual(['tiny-test', 'tiny-twin']);
    const both = readFileSync(catalog.path, 'utf8');
    const count = (needle: string): number => both.split(needle).length - 1;
    expect(count(JSON.stringify(card.labels))).toBe(1);
    expect(count(JSON.stringify(card.frontEnd))).toBe(1);
    expect(count(JSON.stringify(card.data))).toBe(1);
    expect(count('"labels":LABELS_0')).toBe(2);
    expect(count('"name":"tiny-twin"')).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses factory options that do not reproduce the model, and bad names', async () => {
    const before = tf.memory().numTensors;
    const model = bcResNet({ ...options, seed: 2 });
    // Causal padding has the same weights but other outputs: only the prediction check sees it.
    expect(() =>
      verifyArchitecture(model, { family: 'bc-resnet', options: { ...options, causal: true } }),
    ).toThrow(/does not reproduce/);
    expect(() =>
      verifyArchitecture(model, { family: 'bc-resnet', options: { ...options, width: 0.5 } }),
    ).toThrow(/other weights/);
    verifyArchitecture(model, { family: 'bc-resnet', options });
    const root = dirs.make('kws-pack-bad-');
    const input = {
      model,
      labels,
      architecture: { family: 'bc-resnet' as const, options },
      recipe: {},
      clips: {},
      metrics: { validationAccuracy: 0.5, source: 'test' },
      generatedBy: 'vitest',
    };
    const targets = { pretrainedDir: root, moduleDir: root };
    await expect(packPretrained({ ...input, name: 'catalog' }, targets)).rejects.toThrow(/not allowed/);
    await expect(packPretrained({ ...input, name: 'Bad_Name' }, targets)).rejects.toThrow(/not allowed/);
    await expect(packPretrained({ ...input, name: 'ok', labels: ['a', 'b'] }, targets)).rejects.toThrow(
      /3 outputs but 2 labels/,
    );
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** A tfjs load of a folder's files with stock tfjs-layers (no kws-kit loader). */
async function stockLoad(dir: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const bytes = shardBytes(dir);
  const artifacts = tf.io.getModelArtifactsForJSONSync(
    json,
    json.weightsManifest.flatMap((g) => g.weights),
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  );
  registerKwsLayers();
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}

function fileBytes(dir: string): { json: number; shards: number } {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const shards = json.weightsManifest
    .flatMap((g) => g.paths)
    .reduce((n, p) => n + statSync(join(dir, p)).size, 0);
  return { json: statSync(join(dir, 'model.json')).size, shards };
}

describe('packing a quantized export (scripts/pack-pretrained.ts)', () => {
  const labels = ['yes', 'no', '_unknown_'];
  const options = { width: 0.25, numClasses: 3, causal: false, inputShape: [24, 40] as [number, number] };

  it.each([
    ['float16', 'float16'],
    ['uint8-affine', 'uint8'],
  ] as const)(
    'ships a %s export byte for byte; the card has its storage and file sizes',
    async (scheme, stored) => {
      const before = tf.memory().numTensors;
      const root = dirs.make('kws-pack-q-');
      const targets = { pretrainedDir: join(root, 'pretrained'), moduleDir: join(root, 'modules') };
      const model = bcResNet({ ...options, seed: 31 });
      model.setUserDefinedMetadata(kwsMetadata(labels, DEFAULT_FRONT_END));
      const exportDir = join(root, 'export');
      // Every weight quantized (the default keeps biases and norms in float32, most of a tiny model).
      const exported = await exportQuantized(model, exportDir, { scheme, skip: () => false });
      const floatBytes = 4 * profile(model).total.params;
      model.dispose();
      const name = `tiny-${stored}`;
      const packed = await packPretrained(
        {
          name,
          exported: exportDir,
          labels,
          architecture: { family: 'bc-resnet', options },
          recipe: { scheme },
          clips: {},
          metrics: { validationAccuracy: 0.5, source: 'a test' },
          generatedBy: 'vitest',
          kwsKitVersion: '0.0.0-test',
        },
        targets,
      );
      const modelDir = join(targets.pretrainedDir, name);
      // The shipped files and the embedded module hold the exported bytes, unchanged.
      expect(readFileSync(join(modelDir, 'model.json'))).toEqual(readFileSync(join(exportDir, 'model.json')));
      expect(shardBytes(modelDir)).toEqual(shardBytes(exportDir));
      const mod = (await import(pathToFileURL(packed.modulePath).href)) as EmbeddedModel;
      expect(mod.modelJson).toBe(readFileSync(join(exportDir, 'model.json'), 'utf8'));
      expect(decodeBase64(mod.weightsBase64)).toEqual(shardBytes(exportDir));

      const { profile: p } = packed.card;
      const sizes = fileBytes(exportDir);
      expect(p.weightBytes).toBe(sizes.shards);
      expect(p.weightBytes).toBe(exported.weightBytes);
      expect(p.modelJsonBytes).toBe(sizes.json);
      expect(p.bytesOnDisk).toBe(sizes.json + sizes.shards);
      expect(p.weightFormat).toBe(stored);
      const storage = Object.values(p.weightStorage);
      expect(storage.reduce((n, g) => n + g.bytes, 0)).toBe(sizes.shards);
      expect(storage.reduce((n, g) => n + g.values, 0)).toBe(p.params);
      expect(p.weightBytes).toBeLessThan(floatBytes * (stored === 'uint8' ? 0.4 : 0.6));
      expect(readFileSync(join(modelDir, 'MODEL_CARD.md'), 'utf8')).toContain(
        `Weights stored as \`${stored}\``,
      );

      // Loaded like loadPretrained loads it: the same predictions as stock tfjs on the exported files.
      const x = randomInput([2, 24, 40], 3);
      const ours = await loadEmbeddedModel(mod, name);
      const stock = await stockLoad(exportDir);
      expect(predict(ours, x)).toEqual(predict(stock, x));
      ours.dispose();
      stock.dispose();
      x.dispose();

      // Re-packing from the committed files changes no byte of the weights and keeps the card.
      const again = await repackPretrained(name, targets, 'vitest-repack');
      expect(again.card).toEqual(packed.card);
      expect(shardBytes(modelDir)).toEqual(shardBytes(exportDir));
      const text = readFileSync(again.modulePath, 'utf8');
      expect(text).toMatch(/^\/\/ Generated by `vitest-repack`/);
      expect(text).toContain(`export const weightsBase64 = '${encodeBase64(shardBytes(exportDir))}'`);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('ships an int8 simulation (FakeQuant layers) that loads with its fake-quant layers', async () => {
    const before = tf.memory().numTensors;
    const root = dirs.make('kws-pack-fq-');
    const targets = { pretrainedDir: join(root, 'pretrained'), moduleDir: join(root, 'modules') };
    const model = bcResNet({ ...options, seed: 8 });
    const samples = randomInput([4, 24, 40], 12);
    const simulated = simulateInt8(model, calibrateActivations(model, samples));
    samples.dispose();
    const exportDir = join(root, 'export');
    await exportQuantized(simulated, exportDir, { scheme: 'uint8-affine' });
    const architecture = inferArchitecture(simulated);
    expect(architecture).toEqual({ family: 'bc-resnet', options });
    const fakeQuant = simulated.layers.filter((l) => l.getClassName() === 'FakeQuant').length;
    expect(fakeQuant).toBeGreaterThan(0);
    const packed = await packPretrained(
      {
        name: 'tiny-int8-sim',
        exported: exportDir,
        labels,
        architecture,
        recipe: {},
        clips: {},
        metrics: { validationAccuracy: 0.5, source: 'a test' },
        generatedBy: 'vitest',
      },
      targets,
    );
    expect(packed.card.architecture.activationFakeQuant).toBe(fakeQuant);
    const mod = (await import(pathToFileURL(packed.modulePath).href)) as EmbeddedModel;
    const x = randomInput([2, 24, 40], 4);
    const ours = await loadEmbeddedModel(mod, 'tiny-int8-sim');
    expect(ours.layers.filter((l) => l.getClassName() === 'FakeQuant').length).toBe(fakeQuant);
    registerQuantizeLayers();
    const stock = await stockLoad(exportDir);
    expect(predict(ours, x)).toEqual(predict(stock, x));
    for (const m of [ours, stock, simulated, model]) m.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('inferArchitecture', () => {
  it('reads factory options off a causal BC-ResNet and a bidirectional CRNN that rebuild them exactly', () => {
    const before = tf.memory().numTensors;
    const bc = bcResNet({ width: 0.5, numClasses: 4, causal: true, inputShape: [20, 40], seed: 1 });
    const bcArch = inferArchitecture(bc);
    expect(bcArch).toEqual({
      family: 'bc-resnet',
      options: { width: 0.5, numClasses: 4, causal: true, inputShape: [20, 40] },
    });
    verifyArchitecture(bc, bcArch);
    bc.dispose();
    const rnn = crnn({
      numClasses: 3,
      inputShape: [30, 40],
      convChannels: 4,
      hiddenSize: 6,
      gruLayers: 2,
      bidirectional: true,
      attentionSize: 5,
      seed: 4,
    });
    const rnnArch = inferArchitecture(rnn);
    expect(rnnArch.family).toBe('crnn');
    expect(rnnArch.options).toMatchObject({
      convChannels: 4,
      hiddenSize: 6,
      gruLayers: 2,
      bidirectional: true,
    });
    verifyArchitecture(rnn, rnnArch);
    rnn.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('recognises a small CRNN student and pruned CRNNs (GRU widths per layer)', () => {
    const before = tf.memory().numTensors;
    const student = crnn({
      numClasses: 3,
      inputShape: [30, 40],
      convChannels: 3,
      hiddenSize: 5,
      gruLayers: 1,
      seed: 2,
    });
    const studentArch = inferArchitecture(student);
    expect(studentArch.options).toMatchObject({ convChannels: 3, hiddenSize: 5, gruLayers: 1, dropout: 0 });
    verifyArchitecture(student, studentArch);
    student.dispose();

    const base = crnn({
      numClasses: 3,
      inputShape: [30, 40],
      convChannels: 6,
      hiddenSize: 8,
      gruLayers: 2,
      seed: 5,
    });
    const uniform = pruneModel(base, { ratio: 0.5 }).model;
    const uniformArch = inferArchitecture(uniform);
    expect(uniformArch.options).toMatchObject({ convChannels: 3, hiddenSize: 4, gruLayers: 2 });
    verifyArchitecture(uniform, uniformArch);
    const uneven = pruneModel(base, { perLayer: { crnn_gru_1: 0.5, crnn_conv: 0.5 } }).model;
    const unevenArch = inferArchitecture(uneven);
    expect(unevenArch.options).toMatchObject({ convChannels: 3, hiddenSizes: [4, 8], gruLayers: 2 });
    expect(unevenArch.options).not.toHaveProperty('hiddenSize');
    verifyArchitecture(uneven, unevenArch);
    expect(() =>
      verifyArchitecture(uneven, { family: 'crnn', options: { ...unevenArch.options, hiddenSizes: [4, 7] } }),
    ).toThrow(/other weights/);
    for (const m of [base, uniform, uneven]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('registry', () => {
  it('unknown names give NOT_FOUND listing the available models', async () => {
    const names = listPretrained();
    const listed = new RegExp(names.length > 0 ? names.join(', ') : '\\(none\\)');
    expectKwsError(() => pretrainedCard('nope'), 'NOT_FOUND', listed);
    await expectKwsRejection(loadPretrained('nope'), 'NOT_FOUND', listed);
    await expectKwsRejection(pretrainedArtifacts('nope'), 'NOT_FOUND', /available/);
    expectKwsError(() => pretrainedCard(3 as unknown as string), 'INVALID_ARGUMENT');
    await expectKwsRejection(
      runEval({ model: 'nope-model', data: dirs.make('kws-empty-') }),
      'NOT_FOUND',
      /no pretrained model of that name; pretrained models: /,
    );
  });

  it('lists names in order and hands out cards that cannot change the registry', () => {
    const names = listPretrained();
    expect([...names].sort()).toEqual(names);
    for (const name of names) {
      const card = pretrainedCard(name);
      expect(card.name).toBe(name);
      card.labels.push('x');
      expect(pretrainedCard(name).labels).not.toContain('x');
    }
  });
});

describe.each(listPretrained())('shipped model %s', (name) => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('loads offline; outputs, params and bytes match its card and its pretrained/ files', async () => {
    const before = tf.memory().numTensors;
    const card = pretrainedCard(name);
    const dir = join(REPO, 'pretrained', name);
    const mod = (await import(
      pathToFileURL(join(REPO, 'src/models/pretrained', `${name}.ts`)).href
    )) as EmbeddedModel;
    expect(mod.modelJson).toBe(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weights = decodeBase64(mod.weightsBase64);
    expect(weights).toEqual(shardBytes(dir));
    expect(card.profile.weightBytes).toBe(weights.byteLength);
    const stored = Object.values(card.profile.weightStorage);
    expect(stored.reduce((n, g) => n + g.bytes, 0)).toBe(weights.byteLength);
    expect(stored.reduce((n, g) => n + g.values, 0)).toBe(card.profile.params);
    expect(card.profile.modelJsonBytes).toBe(readFileSync(join(dir, 'model.json')).byteLength);
    expect(JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8'))).toEqual(card);
    expect(readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8')).toBe(renderModelCard(card));

    const artifacts = await pretrainedArtifacts(name);
    const meta = readKwsMetadata(artifacts.userDefinedMetadata);
    expect(meta?.labels).toEqual(card.labels);
    expect(meta?.frontEnd).toEqual(card.frontEnd);

    const model = await loadPretrained(name);
    expect(model.outputs[0]?.shape).toEqual([null, card.labels.length]);
    const p = profile(model).total;
    expect(p.params).toBe(card.profile.params);
    expect(p.trainableParams).toBe(card.profile.trainableParams);
    expect(p.macs).toBe(card.profile.macs);
    // The card's factory options rebuild this model exactly.
    verifyArchitecture(model, card.architecture);

    // The same files served over HTTP load through `url` to the same predictions.
    server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(dir, (req.url ?? '/').slice(1))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((ok) => server?.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as { port: number };
    const remote = await loadPretrained(name, { url: `http://127.0.0.1:${port}/model.json` });
    const x = randomInput([2, ...card.inputShape], 9);
    expect(predict(remote, x)).toEqual(predict(model, x));
    await expectKwsRejection(
      loadPretrained(name, { url: `http://127.0.0.1:${port}/missing/model.json` }),
      'NOT_FOUND',
    );
    x.dispose();
    remote.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('kws-kit eval accepts its name for --model', async () => {
    const data = dirs.make('kws-pretrained-eval-');
    makeSmallDataset(data);
    const result = await runEval({ model: name, data });
    expect(result.labels).toEqual(pretrainedCard(name).labels);
    expect(result.clips).toBe(2); // the test list of the small data set
    expect(result.confusion.flat().reduce((a, b) => a + b, 0)).toBe(2);
  });
});
