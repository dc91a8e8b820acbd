import '@tensorflow/tfjs-backend-cpu';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import {
  DEFAULT_SHARD_BYTES,
  loadArtifacts,
  loadModel,
  modelFromArtifacts,
  modelToArtifacts,
  saveArtifacts,
  saveModel,
  weightSpecsByteLength,
} from '../../src/models/io.js';
import { createRng } from '../../src/random.js';

let root = '';
let counter = 0;
const newDir = (): string => join(root, `m${counter++}`);

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'kws-io-test-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: the tests edit parsed model.json freely
type Json = Record<string, any>;

/** Conv2D + BatchNormalization + GRU + Dense, every weight (incl. BN moving stats) seeded random. */
function smallModel(seed = 1): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [6, 8, 1],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tfl.layers.batchNormalization(),
      tfl.layers.reshape({ targetShape: [6, 32] }),
      tfl.layers.gru({ units: 5, recurrentInitializer: 'glorotUniform' }),
      tfl.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  const rng = createRng(seed);
  const values = model.weights.map((w) => {
    const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    // Moving variance must stay positive; everything else is N(0, 0.5²).
    const positive = w.name.includes('moving_variance');
    for (let i = 0; i < n; i++) data[i] = positive ? rng.uniform(0.5, 1.5) : 0.5 * rng.normal();
    return tf.tensor(data, w.shape as number[]);
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

function inputBatch(seed = 7): tf.Tensor {
  const rng = createRng(seed);
  const data = new Float32Array(2 * 6 * 8);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tf.tensor(data, [2, 6, 8, 1]);
}

function predictArray(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function weightArrays(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

function readAsArrayBuffer(file: string): ArrayBuffer {
  const b = readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

async function expectKwsError(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<KwsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    const err = e as KwsError;
    expect(err.code, err.message).toBe(code);
    if (pattern) expect(err.message).toMatch(pattern);
    return err;
  }
  throw new Error(`expected KwsError ${code}, nothing was thrown`);
}

describe('saveModel / loadModel', () => {
  it('round-trips Conv2D + BN + GRU + Dense bit-identically in the converter layout', async () => {
    const before = tf.memory().numTensors;
    const model = smallModel();
    const x = inputBatch();
    const dir = newDir();
    const info = await saveModel(model, dir);

    expect(readdirSync(dir).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(Object.keys(json)).toEqual([
      'modelTopology',
      'format',
      'generatedBy',
      'convertedBy',
      'weightsManifest',
    ]);
    expect(json.format).toBe('layers-model');
    expect(json.generatedBy).toBe(`TensorFlow.js tfjs-layers v${tfl.version_layers}`);
    expect(json.convertedBy).toBeNull();
    expect(json.modelTopology.class_name).toBe('Sequential');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['group1-shard1of1.bin']);
    const specs = json.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string }[];
    expect(specs.map((s) => s.shape)).toEqual(model.weights.map((w) => w.shape));
    expect(specs.every((s) => s.dtype === 'float32')).toBe(true);
    // conv 3·3·1·4+4, BN 4·4, GRU 3·(32·5+5·5+5), dense 5·3+3
    const params = 40 + 16 + 3 * (32 * 5 + 25 + 5) + 18;
    expect(model.countParams()).toBe(params);
    expect(info.weightBytes).toBe(params * 4);
    expect(info.shards).toEqual([{ path: join(dir, 'group1-shard1of1.bin'), bytes: params * 4 }]);
    expect(statSync(join(dir, 'group1-shard1of1.bin')).size).toBe(params * 4);
    expect(info.modelJson.bytes).toBe(statSync(join(dir, 'model.json')).size);
    expect(info.totalBytes).toBe(info.modelJson.bytes + params * 4);

    for (const location of [dir, join(dir, 'model.json')]) {
      const loaded = await loadModel(location);
      expect(predictArray(loaded, x)).toEqual(predictArray(model, x));
      expect(weightArrays(loaded)).toEqual(weightArrays(model));
      loaded.dispose();
    }
    model.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('writes several shards of at most shardBytes and reads them back in manifest order', async () => {
    const model = smallModel(2);
    const x = inputBatch(3);
    const dir = newDir();
    const info = await saveModel(model, dir, { shardBytes: 100 });
    const total = model.countParams() * 4;
    const n = Math.ceil(total / 100);
    expect(info.shards.map((s) => s.bytes)).toEqual([...Array(n - 1).fill(100), total - 100 * (n - 1)]);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(
      Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`),
    );
    const loaded = await loadModel(dir);
    expect(predictArray(loaded, x)).toEqual(predictArray(model, x));
    loaded.dispose();

    // Saving again over it with fewer shards removes the stale ones and leaves no temp folder.
    await saveModel(model, dir);
    expect(readdirSync(dir).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const again = await loadModel(dir);
    expect(predictArray(again, x)).toEqual(predictArray(model, x));
    again.dispose();
    model.dispose();
    x.dispose();
  });

  it('a save that fails midway leaves no model.json pointing at missing shards, and no temp folder', async () => {
    const model = smallModel(13);
    const dir = newDir();
    await saveModel(model, dir);
    // A folder where the new save's second shard must go makes its rename fail.
    mkdirSync(join(dir, 'group1-shard2of2.bin', 'blocker'), { recursive: true });
    await expect(saveModel(model, dir, { shardBytes: (model.countParams() * 4) / 2 + 4 })).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    await expectKwsError(loadModel(dir), 'NOT_FOUND', /has no model\.json/);
    model.dispose();
  });

  it('writes files stock tfjs loaders accept: fromMemory, and the browser HTTP loader via fetchFunc', async () => {
    const model = smallModel(4);
    const x = inputBatch(5);
    const dir = newDir();
    await saveModel(model, dir, { shardBytes: 256 });
    const expected = predictArray(model, x);

    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const shards = (json.weightsManifest[0].paths as string[]).map((p) => readAsArrayBuffer(join(dir, p)));
    const fromMemory = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: tf.io.CompositeArrayBuffer.join(shards),
      }),
    );
    expect(predictArray(fromMemory, x)).toEqual(expected);
    fromMemory.dispose();

    const base = 'https://models.example.org/kws/';
    const requested: string[] = [];
    const fetchFunc = async (input: RequestInfo | URL): Promise<Response> => {
      const url = String(input);
      requested.push(url);
      if (!url.startsWith(base)) return new Response('not found', { status: 404 });
      const file = join(dir, url.slice(base.length));
      if (!existsSync(file)) return new Response('not found', { status: 404 });
      return new Response(readFileSync(file), { status: 200 });
    };
    const viaHttp = await tfl.loadLayersModel(`${base}model.json`, { fetchFunc: fetchFunc as typeof fetch });
    expect(predictArray(viaHttp, x)).toEqual(expected);
    expect(requested[0]).toBe(`${base}model.json`);
    expect(requested.slice(1)).toEqual((json.weightsManifest[0].paths as string[]).map((p) => base + p));
    viaHttp.dispose();
    model.dispose();
    x.dispose();
  });

  it('loads what tfjs-layers’ own model.save writes (single weights.bin, as in the facts note)', async () => {
    const model = smallModel(6);
    const x = inputBatch(8);
    const dir = newDir();
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(
          join(dir, 'model.json'),
          JSON.stringify({
            modelTopology: a.modelTopology,
            format: a.format,
            weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
          }),
        );
        writeFileSync(join(dir, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      }),
    );
    const loaded = await loadModel(dir);
    expect(predictArray(loaded, x)).toEqual(predictArray(model, x));
    loaded.dispose();
    model.dispose();
    x.dispose();
  });
});

/** A registered custom layer with a trainable and a non-trainable weight, as the kws layers have. */
class AffineTest extends tfl.layers.Layer {
  static className = 'KwsIoTestAffine';
  private gain: tfl.LayerVariable | null = null;
  private offset: tfl.LayerVariable | null = null;
  constructor(private readonly config: { name?: string; scaleBy: number }) {
    super(config);
  }
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const c = (inputShape as (number | null)[]).at(-1) as number;
    this.gain = this.addWeight('gain', [c], 'float32', tfl.initializers.randomNormal({ seed: 5 }));
    this.offset = this.addWeight(
      'offset',
      [c],
      'float32',
      tfl.initializers.randomNormal({ seed: 6 }),
      undefined,
      false,
    );
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() =>
      tf.add(tf.mul(tf.mul(x, this.gain!.read()), this.config.scaleBy), this.offset!.read()),
    );
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scaleBy: this.config.scaleBy };
  }
}

describe('custom layers', () => {
  it('round-trips a registered custom layer with its config and non-trainable weight', async () => {
    tf.serialization.registerClass(AffineTest);
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 4 }), new AffineTest({ scaleBy: 2.5 })],
    });
    const x = tf.tensor([[1, -2, 0.5]]);
    const dir = newDir();
    await saveModel(model, dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.modelTopology.config.layers[1].class_name).toBe('KwsIoTestAffine');
    expect(json.modelTopology.config.layers[1].config.scale_by).toBe(2.5);
    const loaded = await loadModel(dir);
    expect(predictArray(loaded, x)).toEqual(predictArray(model, x));
    expect(loaded.layers[1]!.nonTrainableWeights).toHaveLength(1);
    loaded.dispose();
    model.dispose();
    x.dispose();
  });
});

describe('in-memory artifacts', () => {
  it('modelToArtifacts → modelFromArtifacts is bit-exact and weightData is one ArrayBuffer', async () => {
    const before = tf.memory().numTensors;
    const model = smallModel(9);
    const x = inputBatch(10);
    const artifacts = await modelToArtifacts(model);
    expect(artifacts.weightData).toBeInstanceOf(ArrayBuffer);
    expect((artifacts.weightData as ArrayBuffer).byteLength).toBe(
      weightSpecsByteLength(artifacts.weightSpecs!),
    );
    const back = await modelFromArtifacts(artifacts);
    expect(predictArray(back, x)).toEqual(predictArray(model, x));
    back.dispose();
    model.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('weightSpecsByteLength counts quantized entries at their stored size', () => {
    expect(
      weightSpecsByteLength([
        { name: 'a', shape: [3, 4], dtype: 'float32' },
        { name: 'b', shape: [5], dtype: 'int32' },
        { name: 'c', shape: [7], dtype: 'float32', quantization: { dtype: 'uint8', min: 0, scale: 1 } },
        { name: 'd', shape: [2, 3], dtype: 'float32', quantization: { dtype: 'uint16', min: 0, scale: 1 } },
        { name: 'e', shape: [5], dtype: 'float32', quantization: { dtype: 'float16' } },
        { name: 'f', shape: [0, 9], dtype: 'float32' },
      ]),
    ).toBe(48 + 20 + 7 + 12 + 10 + 0);
    expect(() => weightSpecsByteLength([{ name: 'a', shape: [2], dtype: 'float64' as 'float32' }])).toThrow(
      KwsError,
    );
  });

  it('rejects bad arguments with INVALID_ARGUMENT', async () => {
    const model = smallModel(11);
    const artifacts = await modelToArtifacts(model);
    const data = artifacts.weightData as ArrayBuffer;
    await expectKwsError(
      modelFromArtifacts({ ...artifacts, weightData: data.slice(0, data.byteLength - 4) }),
      'INVALID_ARGUMENT',
      /holds \d+ bytes but the \d+ weight specs need \d+ bytes/,
    );
    await expectKwsError(
      saveArtifacts({ ...artifacts, weightData: data.slice(4) }, newDir()),
      'INVALID_ARGUMENT',
    );
    await expectKwsError(
      saveArtifacts({ ...artifacts, modelTopology: undefined }, newDir()),
      'INVALID_ARGUMENT',
    );
    await expectKwsError(saveModel({} as tfl.LayersModel, newDir()), 'INVALID_ARGUMENT');
    await expectKwsError(saveModel(model, newDir(), { shardBytes: 0 }), 'INVALID_ARGUMENT', /shardBytes/);
    await expectKwsError(saveModel(model, newDir(), { shardBytes: 1.5 }), 'INVALID_ARGUMENT', /shardBytes/);
    await expectKwsError(saveModel(model, ''), 'INVALID_ARGUMENT');
    const file = join(root, `file${counter++}`);
    writeFileSync(file, 'x');
    await expectKwsError(saveModel(model, file), 'INVALID_ARGUMENT', /not a folder/);
    await expectKwsError(loadModel(42 as unknown as string), 'INVALID_ARGUMENT');
    await expectKwsError(
      modelFromArtifacts(artifacts, { strict: 'yes' as unknown as boolean }),
      'INVALID_ARGUMENT',
    );
    expect(DEFAULT_SHARD_BYTES).toBe(4194304);
    model.dispose();
  });
});

describe('corrupt and missing files', () => {
  let dir = '';
  let jsonText = '';
  let shardPaths: string[] = [];
  let model: tfl.LayersModel;

  beforeAll(async () => {
    model = smallModel(12);
    dir = newDir();
    await saveModel(model, dir, { shardBytes: 300 });
    jsonText = readFileSync(join(dir, 'model.json'), 'utf8');
    shardPaths = JSON.parse(jsonText).weightsManifest[0].paths;
  });

  afterAll(() => model.dispose());

  /** A copy of the saved model whose model.json and shards can be edited freely. */
  function copy(editJson?: (text: string) => string): string {
    const d = newDir();
    rmSync(d, { recursive: true, force: true });
    cpSync(dir, d, { recursive: true });
    if (editJson) writeFileSync(join(d, 'model.json'), editJson(jsonText));
    return d;
  }

  function editManifest(edit: (json: Json) => void): string {
    return copy((text) => {
      const json = JSON.parse(text);
      edit(json);
      return JSON.stringify(json);
    });
  }

  it('missing folder, model.json or shard → NOT_FOUND', async () => {
    await expectKwsError(loadModel(join(root, 'does-not-exist')), 'NOT_FOUND', /does-not-exist/);
    await expectKwsError(loadModel(join(root, 'does-not-exist', 'model.json')), 'NOT_FOUND');
    const d = copy();
    rmSync(join(d, 'model.json'));
    await expectKwsError(loadModel(d), 'NOT_FOUND', /has no model\.json/);
    const e = copy();
    rmSync(join(e, shardPaths[1]!));
    await expectKwsError(loadModel(e), 'NOT_FOUND', new RegExp(shardPaths[1]!));
  });

  it('every sampled truncation of model.json → MODEL_FILE_CORRUPT naming the file', async () => {
    const before = tf.memory().numTensors;
    const d = copy();
    const file = join(d, 'model.json');
    const bytes = readFileSync(file);
    const cuts = new Set<number>([0, 1, bytes.length - 1]);
    const rng = createRng(99);
    while (cuts.size < 50) cuts.add(rng.int(bytes.length));
    for (const cut of cuts) {
      writeFileSync(file, bytes.subarray(0, cut));
      const err = await expectKwsError(loadModel(d), 'MODEL_FILE_CORRUPT');
      expect(err.message).toContain(file);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('every sampled truncation of a shard, and a shard with extra bytes → MODEL_FILE_CORRUPT', async () => {
    const before = tf.memory().numTensors;
    for (const which of [0, shardPaths.length - 1]) {
      const d = copy();
      const file = join(d, shardPaths[which]!);
      const bytes = readFileSync(file);
      const rng = createRng(which);
      const cuts = new Set<number>([0, bytes.length - 1]);
      while (cuts.size < Math.min(12, bytes.length)) cuts.add(rng.int(bytes.length));
      for (const cut of cuts) {
        writeFileSync(file, bytes.subarray(0, cut));
        await expectKwsError(loadModel(d), 'MODEL_FILE_CORRUPT', /truncated/);
      }
      writeFileSync(file, Buffer.concat([bytes, Buffer.from([1, 2, 3])]));
      await expectKwsError(loadModel(d), 'MODEL_FILE_CORRUPT', /extra bytes/);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('malformed manifests → MODEL_FILE_CORRUPT with a message saying what is wrong', async () => {
    const before = tf.memory().numTensors;
    const cases: [(j: Json) => void, RegExp][] = [
      [(j) => delete j.modelTopology, /modelTopology/],
      [(j) => delete j.weightsManifest, /weightsManifest/],
      [(j) => (j.weightsManifest = {}), /weightsManifest/],
      [(j) => (j.weightsManifest[0].paths = 'x.bin'), /paths/],
      [(j) => delete j.weightsManifest[0].weights, /weights/],
      [(j) => (j.weightsManifest[0].weights[0].dtype = 'float64'), /dtype "float64"/],
      [(j) => (j.weightsManifest[0].weights[0].shape = [3, -1]), /shape/],
      [(j) => (j.weightsManifest[0].weights[0].shape = 'abc'), /shape/],
      [(j) => delete j.weightsManifest[0].weights[0].name, /name/],
      [(j) => (j.weightsManifest[0].weights[1].name = j.weightsManifest[0].weights[0].name), /twice/],
      [(j) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'int8', min: 0, scale: 1 }), /int8/],
      [(j) => (j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', min: 0 }), /scale/],
      [(j) => (j.weightsManifest[0].paths[0] = '../elsewhere.bin'), /outside/],
      [(j) => (j.format = 7), /format/],
    ];
    for (const [edit, pattern] of cases) {
      await expectKwsError(loadModel(editManifest(edit)), 'MODEL_FILE_CORRUPT', pattern);
    }
    const notObject = copy(() => '[1, 2]');
    await expectKwsError(loadModel(notObject), 'MODEL_FILE_CORRUPT', /not an object/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('files whose sizes agree but which tfjs-layers cannot build → MODEL_FILE_CORRUPT', async () => {
    // No leak assertion here: tfjs-layers gives no handle on a half-built model it rejects.
    const cases: [(j: Json) => void, RegExp][] = [
      // Right byte count, shapes that do not fit the model.
      [
        (j) => {
          const w = j.weightsManifest[0].weights;
          w[0].shape = [w[0].shape.reduce((a: number, b: number) => a * b, 1)];
        },
        /cannot build/,
      ],
      [(j) => (j.weightsManifest[0].weights[0].name = 'renamed/kernel'), /cannot build.*renamed\/kernel/],
      [(j) => (j.modelTopology = { class_name: 'Sequential', config: 'nonsense' }), /cannot build/],
    ];
    for (const [edit, pattern] of cases) {
      const d = editManifest(edit);
      const err = await expectKwsError(loadModel(d), 'MODEL_FILE_CORRUPT', pattern);
      expect(err.message).toContain(join(d, 'model.json'));
    }
  });

  it('an unregistered layer class or a graph model → MODEL_INVALID', async () => {
    const unknown = editManifest((j) => {
      j.modelTopology.config.layers[0].class_name = 'NoSuchLayer';
    });
    await expectKwsError(loadModel(unknown), 'MODEL_INVALID', /NoSuchLayer.*register/);
    const graph = editManifest((j) => {
      j.format = 'graph-model';
    });
    await expectKwsError(loadModel(graph), 'MODEL_INVALID', /graph model/);
  });
});

describe('quantized manifests', () => {
  it('loads hand-made uint8 and float16 weights dequantized (v·scale + min)', async () => {
    const before = tf.memory().numTensors;
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({
          inputShape: [6],
          units: 4,
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
    const artifacts = await modelToArtifacts(model);
    const [kernelSpec, biasSpec] = artifacts.weightSpecs!;
    const kernel = new Float32Array(artifacts.weightData as ArrayBuffer, 0, 24);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of kernel) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const scale = (hi - lo) / 255;
    const q = Uint8Array.from(kernel, (v) => Math.round((v - lo) / scale));
    // float16 bit patterns: 1.0, -2.0, 0.5, 65504 (largest half)
    const half = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]);
    const data = new Uint8Array(24 + 8);
    data.set(q, 0);
    data.set(new Uint8Array(half.buffer), 24);
    const quantized: tf.io.ModelArtifacts = {
      ...artifacts,
      weightSpecs: [
        { ...kernelSpec!, quantization: { dtype: 'uint8', min: lo, scale } },
        { ...biasSpec!, quantization: { dtype: 'float16' } },
      ],
      weightData: data.buffer,
    };
    const dir = newDir();
    const info = await saveArtifacts(quantized, dir);
    expect(info.weightBytes).toBe(32);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].weights[0].quantization).toEqual({ dtype: 'uint8', min: lo, scale });

    const loaded = await loadModel(dir);
    const [k, b] = loaded.getWeights();
    expect(k!.dtype).toBe('float32');
    const expectedKernel = Float32Array.from(q, (v) => v * scale + lo);
    expect(k!.dataSync()).toEqual(expectedKernel);
    let worst = 0;
    for (let i = 0; i < 24; i++) worst = Math.max(worst, Math.abs(expectedKernel[i]! - kernel[i]!));
    expect(worst).toBeLessThanOrEqual(scale / 2 + 1e-7);
    expect(Array.from(b!.dataSync())).toEqual([1, -2, 0.5, 65504]);

    const artifactsBack = await loadArtifacts(dir);
    expect(artifactsBack.weightSpecs).toEqual(quantized.weightSpecs);
    expect(new Uint8Array(artifactsBack.weightData as ArrayBuffer)).toEqual(data);

    // A quantized shard one byte short is caught by the quantized size, not the float32 size.
    writeFileSync(join(dir, 'group1-shard1of1.bin'), data.subarray(0, 31));
    await expectKwsError(
      loadModel(dir),
      'MODEL_FILE_CORRUPT',
      /hold 31 bytes but its 2 weights need 32 bytes/,
    );
    loaded.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
