import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { formatProfile, type MacCount, type ModelProfile, profile } from '../../src/models/profile.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const seed = 1;
const glorot = () => tfl.initializers.glorotUniform({ seed });

function only(p: ModelProfile, className: string) {
  const rows = p.layers.filter((l) => l.className === className);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** Totals must agree with tfjs' own parameter counts. */
function checkTotals(model: tfl.LayersModel, p: ModelProfile): void {
  expect(p.total.params).toBe(model.countParams());
  const trainable = model.trainableWeights.reduce(
    (s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1),
    0,
  );
  expect(p.total.trainableParams).toBe(trainable);
  expect(p.total.weightBytes).toEqual(model.countParams() > 0 ? { float32: 4 * model.countParams() } : {});
}

function expectKws(fn: () => unknown, code: string, pattern?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KwsError);
    expect((e as KwsError).code, (e as Error).message).toBe(code);
    if (pattern) expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`expected KwsError ${code}`);
}

class TestScale extends tfl.layers.Layer {
  static className = 'TestScale';
  seen: (number[] | number[][])[] = [];
  result: MacCount | (() => unknown) = { macs: 123, normMacs: 7 };
  private alpha: tfl.LayerVariable | null = null;

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    this.alpha = this.addWeight(
      'alpha',
      [shape[shape.length - 1] as number],
      'float32',
      tfl.initializers.ones(),
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => tf.mul(x, this.alpha!.read()));
  }

  countMacs(inputShape: number[] | number[][]): MacCount {
    this.seen.push(inputShape);
    return typeof this.result === 'function' ? (this.result() as MacCount) : this.result;
  }
}

class Opaque extends tfl.layers.Layer {
  static className = 'TestOpaque';
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as (number | null)[];
    this.addWeight('w', [shape[shape.length - 1] as number], 'float32', tfl.initializers.ones());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0]! : inputs;
  }
}

describe('profile: hand-computed layers', () => {
  it('Dense 10→5: 55 params, 50 MACs', () => {
    const before = tf.memory().numTensors;
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ name: 'fc', inputShape: [10], units: 5, kernelInitializer: glorot() })],
    });
    const p = profile(model);
    expect(tf.memory().numTensors).toBe(before + 2); // the model's own two weights, nothing else
    expect(p.layers).toEqual([
      {
        name: 'fc',
        className: 'Dense',
        outputShape: [1, 5],
        params: 55,
        trainableParams: 55,
        macs: 50,
        normMacs: 0,
        weightBytes: { float32: 220 },
        activationBytes: 20,
        calls: 1,
      },
    ]);
    expect(p.total).toEqual({
      params: 55,
      trainableParams: 55,
      macs: 50,
      normMacs: 0,
      weightBytes: { float32: 220 },
      peakActivationBytes: 40 + 20,
    });
    expect(p.inputShapes).toEqual([[1, 10]]);
    expect(p.warnings).toEqual([]);
    model.dispose();
  });

  it('Dense on a sequence counts every position', () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [7, 4], units: 3 })] });
    expect(profile(model).total.macs).toBe(7 * 4 * 3);
    model.dispose();
  });

  it('Conv2D 3×3, 1→4 channels, 8×8 valid: 40 params, 6·6·9·4 = 1296 MACs', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, kernelInitializer: glorot() }),
      ],
    });
    const p = profile(model);
    const row = only(p, 'Conv2D');
    expect(row.params).toBe(40);
    expect(row.macs).toBe(1296);
    expect(row.outputShape).toEqual([1, 6, 6, 4]);
    expect(row.activationBytes).toBe(6 * 6 * 4 * 4);
    expect(p.total.peakActivationBytes).toBe(8 * 8 * 4 + 6 * 6 * 4 * 4);
    checkTotals(model, p);
    model.dispose();
  });

  it('strided "same" Conv2D, Conv1D, DepthwiseConv2D and SeparableConv2D', () => {
    const conv = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [9, 9, 2],
          filters: 3,
          kernelSize: [3, 5],
          strides: 2,
          padding: 'same',
          useBias: false,
          kernelInitializer: glorot(),
        }),
      ],
    });
    // out 5×5; 25·(3·5)·2·3
    expect(profile(conv).total).toMatchObject({ params: 90, macs: 25 * 15 * 2 * 3 });

    const conv1d = tfl.sequential({
      layers: [
        tfl.layers.conv1d({ inputShape: [20, 3], filters: 4, kernelSize: 5, kernelInitializer: glorot() }),
      ],
    });
    expect(profile(conv1d).total).toMatchObject({ params: 64, macs: 16 * 5 * 3 * 4 });

    const dw = tfl.sequential({
      layers: [
        tfl.layers.depthwiseConv2d({
          inputShape: [8, 8, 3],
          kernelSize: 3,
          depthMultiplier: 2,
          depthwiseInitializer: glorot(),
        }),
      ],
    });
    const dwp = profile(dw);
    expect(only(dwp, 'DepthwiseConv2D')).toMatchObject({
      params: 3 * 3 * 3 * 2 + 6,
      macs: 6 * 6 * 9 * 3 * 2,
    });
    checkTotals(dw, dwp);

    const sep = tfl.sequential({
      layers: [
        tfl.layers.separableConv2d({
          inputShape: [8, 8, 3],
          kernelSize: 3,
          filters: 5,
          depthwiseInitializer: glorot(),
          pointwiseInitializer: glorot(),
        }),
      ],
    });
    const sp = profile(sep);
    expect(only(sp, 'SeparableConv2D')).toMatchObject({ params: 27 + 15 + 5, macs: 36 * 9 * 3 + 36 * 3 * 5 });
    checkTotals(sep, sp);
    for (const m of [conv, conv1d, dw, sep]) m.dispose();
  });

  it('GRU over T steps: params 3·(in·h + h·h + h), MACs T·3·(in·h + h·h); LSTM and SimpleRNN', () => {
    const [T, inDim, h] = [7, 4, 3];
    const gru = tfl.sequential({
      layers: [
        tfl.layers.gru({
          inputShape: [null, inDim],
          units: h,
          recurrentInitializer: 'glorotUniform',
          kernelInitializer: glorot(),
        }),
      ],
    });
    expectKws(() => profile(gru), 'INVALID_ARGUMENT', /inputShape/);
    const p = profile(gru, { inputShape: [T, inDim] });
    // tfjs-layers GRU has no reset_after, so one bias of 3h.
    expect(only(p, 'GRU')).toMatchObject({
      params: 3 * (inDim * h + h * h + h),
      macs: T * 3 * (inDim * h + h * h),
      outputShape: [1, h],
    });
    expect(p.inputShapes).toEqual([[1, T, inDim]]);
    checkTotals(gru, p);

    const lstm = tfl.sequential({
      layers: [
        tfl.layers.lstm({
          inputShape: [5, 2],
          units: 3,
          returnSequences: true,
          recurrentInitializer: 'glorotUniform',
        }),
      ],
    });
    expect(only(profile(lstm), 'LSTM')).toMatchObject({
      params: 4 * (2 * 3 + 9 + 3),
      macs: 5 * 4 * (6 + 9),
      outputShape: [1, 5, 3],
    });
    const rnn = tfl.sequential({
      layers: [tfl.layers.simpleRNN({ inputShape: [5, 2], units: 3, recurrentInitializer: 'glorotUniform' })],
    });
    expect(only(profile(rnn), 'SimpleRNN')).toMatchObject({ params: 6 + 9 + 3, macs: 5 * (6 + 9) });
    for (const m of [gru, lstm, rnn]) m.dispose();
  });

  it('BatchNormalization: 4C params, 2C trainable, 2 normMACs per element; LayerNormalization 4', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.batchNormalization({ inputShape: [5, 6] }), tfl.layers.layerNormalization()],
    });
    const p = profile(model);
    expect(only(p, 'BatchNormalization')).toMatchObject({
      params: 24,
      trainableParams: 12,
      macs: 0,
      normMacs: 60,
    });
    expect(only(p, 'LayerNormalization')).toMatchObject({ params: 12, trainableParams: 12, normMacs: 120 });
    expect(p.total.normMacs).toBe(180);
    expect(p.total.macs).toBe(0);
    checkTotals(model, p);
    model.dispose();
  });

  it('frozen layers have no trainable params', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 2, trainable: false })],
    });
    expect(profile(model).total).toMatchObject({ params: 8, trainableParams: 0 });
    model.dispose();
  });

  it('zero-MAC layers: pooling, activations, merges, reshapes', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.maxPooling2d({ inputShape: [8, 8, 2], poolSize: 2 }),
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.averagePooling2d({ poolSize: 2 }),
        tfl.layers.dropout({ rate: 0.5 }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.softmax(),
      ],
    });
    const p = profile(model);
    expect(p.total.macs).toBe(0);
    expect(p.warnings).toEqual([]);
    expect(p.layers.map((l) => l.outputShape)).toEqual([
      [1, 4, 4, 2],
      [1, 4, 4, 2],
      [1, 2, 2, 2],
      [1, 2, 2, 2],
      [1, 2],
      [1, 2],
    ]);
    model.dispose();
  });

  it('TimeDistributed multiplies by T; Bidirectional counts both directions', () => {
    const td = tfl.sequential({
      layers: [tfl.layers.timeDistributed({ inputShape: [5, 4], layer: tfl.layers.dense({ units: 3 }) })],
    });
    expect(profile(td).total).toMatchObject({ params: 15, macs: 5 * 4 * 3 });
    const bi = tfl.sequential({
      layers: [
        tfl.layers.bidirectional({
          inputShape: [7, 4],
          layer: tfl.layers.gru({ units: 3, recurrentInitializer: 'glorotUniform' }) as tfl.RNN,
        }),
      ],
    });
    const p = profile(bi);
    expect(p.total).toMatchObject({ params: 2 * 3 * (12 + 9 + 3), macs: 2 * 7 * 3 * (12 + 9) });
    expect(p.layers[0]!.outputShape).toEqual([1, 6]);
    for (const m of [td, bi]) m.dispose();
  });
});

describe('profile: custom layers', () => {
  it('uses countMacs(inputShape) with the batch-1 input shape', () => {
    const scale = new TestScale({ name: 'scale' });
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [6], units: 4 }), scale, tfl.layers.dense({ units: 2 })],
    });
    const p = profile(model);
    expect(scale.seen).toEqual([[1, 4]]);
    expect(only(p, 'TestScale')).toMatchObject({ name: 'scale', params: 4, macs: 123, normMacs: 7 });
    expect(p.total.macs).toBe(24 + 123 + 8);
    expect(p.total.normMacs).toBe(7);
    expect(p.warnings).toEqual([]);

    scale.result = () => ({ macs: Number.NaN, normMacs: 0 });
    expectKws(() => profile(model), 'MODEL_INVALID', /countMacs/);
    scale.result = () => 'lots';
    expectKws(() => profile(model), 'MODEL_INVALID', /countMacs/);
    model.dispose();
  });

  it('an unknown layer with weights counts 0 MACs and is listed in warnings', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [6], units: 4 }), new Opaque({ name: 'mystery' })],
    });
    const p = profile(model);
    expect(only(p, 'TestOpaque')).toMatchObject({ params: 4, macs: 0 });
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0]).toMatch(/mystery \(TestOpaque\).*0 MACs although it has weights/);
    expect(formatProfile(p)).toContain('- warning: layer mystery (TestOpaque)');
    model.dispose();
  });
});

describe('profile: graphs and peak activation memory', () => {
  it('branching functional model: execution order and peak computed by hand', () => {
    const x = tfl.input({ shape: [8], name: 'x' });
    const a = tfl.layers.dense({ units: 4, name: 'a' }).apply(x) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ units: 6, name: 'b' }).apply(a) as tfl.SymbolicTensor;
    const c = tfl.layers.dense({ units: 2, name: 'c' }).apply(a) as tfl.SymbolicTensor;
    const d = tfl.layers.concatenate({ name: 'd' }).apply([b, c]) as tfl.SymbolicTensor;
    const y = tfl.layers.dense({ units: 1, name: 'y' }).apply(d) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: x, outputs: y });
    const p = profile(model);
    // tfjs' executor: depth-first from y, last input first → a, c, b, d, y.
    expect(p.layers.map((l) => l.name)).toEqual(['a', 'c', 'b', 'd', 'y']);
    // Bytes: x 32 (alive throughout), a 16, c 8, b 24, d 32, y 4.
    // a: 32+16=48 · c: 48+8=56 · b: 56+24=80, then a is freed → 64 · d: 64+32=96, then b, c
    // freed → 64 · y: 64+4=68. Peak 96.
    expect(p.total.peakActivationBytes).toBe(96);
    expect(p.layers.map((l) => l.activationBytes)).toEqual([16, 8, 24, 32, 4]);
    expect(p.total.macs).toBe(8 * 4 + 4 * 2 + 4 * 6 + 8 * 1);
    checkTotals(model, p);
    model.dispose();
  });

  it('a residual block keeps the skip tensor alive until the Add', () => {
    const x = tfl.input({ shape: [10] });
    const h1 = tfl.layers.dense({ units: 10, name: 'h1' }).apply(x) as tfl.SymbolicTensor;
    const h2 = tfl.layers.dense({ units: 10, name: 'h2' }).apply(h1) as tfl.SymbolicTensor;
    const h3 = tfl.layers.dense({ units: 10, name: 'h3' }).apply(h2) as tfl.SymbolicTensor;
    const s = tfl.layers.add({ name: 'sum' }).apply([h1, h3]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: x, outputs: s });
    const p = profile(model);
    expect(p.layers.map((l) => l.name)).toEqual(['h1', 'h2', 'h3', 'sum']);
    // x 40 always. h1: 80 · h2: 120 · h3: 160, h2 freed → 120 · sum: 160, h1, h3 freed → 80.
    expect(p.total.peakActivationBytes).toBe(160);
    model.dispose();
  });

  it('multi-input models take one inputShape per input', () => {
    const t = tfl.input({ shape: [null, 3] });
    const u = tfl.input({ shape: [5] });
    const g = tfl.layers.globalAveragePooling1d({}).apply(t) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate().apply([g, u]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2 }).apply(cat) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: [t, u], outputs: out });
    const p = profile(model, { inputShape: [[10, 3], [5]] });
    expect(p.inputShapes).toEqual([
      [1, 10, 3],
      [1, 5],
    ]);
    expect(p.total.macs).toBe(8 * 2);
    expectKws(() => profile(model, { inputShape: [10, 3] }), 'INVALID_ARGUMENT', /2 shapes/);
    expectKws(() => profile(model), 'INVALID_ARGUMENT', /inputShape/);
    model.dispose();
  });

  it('nested models: inner layers as outer/inner rows, nested peak', () => {
    const inner = tfl.sequential({
      name: 'inner',
      layers: [tfl.layers.dense({ inputShape: [10], units: 5, name: 'fc1' })],
    });
    const x = tfl.input({ shape: [10] });
    const h = inner.apply(x) as tfl.SymbolicTensor;
    const y = tfl.layers.dense({ units: 2, name: 'fc2' }).apply(h) as tfl.SymbolicTensor;
    const outer = tfl.model({ inputs: x, outputs: y });
    const p = profile(outer);
    expect(p.layers.map((l) => l.name)).toEqual(['inner/fc1', 'fc2']);
    expect(p.total.macs).toBe(50 + 10);
    // x 40 · inner: its own peak 40+20 → 60 · fc2: 60+8=68, then inner's output freed → 48.
    expect(p.total.peakActivationBytes).toBe(68);
    checkTotals(outer, p);
    outer.dispose();
  });

  it('a shared layer is one row with its calls summed', () => {
    const x = tfl.input({ shape: [4] });
    const shared = tfl.layers.dense({ units: 4, name: 'shared' });
    const y = shared.apply(shared.apply(x)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: x, outputs: y });
    const p = profile(model);
    expect(p.layers).toHaveLength(1);
    expect(p.layers[0]).toMatchObject({
      name: 'shared',
      calls: 2,
      params: 20,
      macs: 32,
      activationBytes: 32,
    });
    expect(formatProfile(p)).toContain('| shared (×2) |');
    model.dispose();
  });

  it('a small CRNN: totals agree with tfjs and formatProfile renders a markdown table', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [null, 40, 1],
          filters: 8,
          kernelSize: 3,
          padding: 'same',
          name: 'conv',
        }),
        tfl.layers.batchNormalization({ name: 'bn' }),
        tfl.layers.activation({ activation: 'relu', name: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: [1, 4], name: 'pool' }),
        tfl.layers.reshape({ targetShape: [-1, 80], name: 'frames' }),
        tfl.layers.gru({ units: 16, recurrentInitializer: 'glorotUniform', name: 'gru' }),
        tfl.layers.dense({ units: 12, name: 'out' }),
      ],
    });
    const p = profile(model, { inputShape: [101, 40, 1] });
    const T = 101;
    expect(p.layers.map((l) => l.outputShape)).toEqual([
      [1, T, 40, 8],
      [1, T, 40, 8],
      [1, T, 40, 8],
      [1, T, 10, 8],
      [1, T, 80],
      [1, 16],
      [1, 12],
    ]);
    expect(p.total.macs).toBe(T * 40 * 9 * 8 + T * 3 * (80 * 16 + 16 * 16) + 16 * 12);
    expect(p.total.normMacs).toBe(2 * T * 40 * 8);
    // conv 9·8+8, BN 4·8, GRU 3·(80·16 + 16·16 + 16), dense 16·12+12
    expect(p.total.params).toBe(80 + 32 + 3 * (80 * 16 + 256 + 16) + 204);
    checkTotals(model, p);
    const text = formatProfile(p);
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      '| layer | class | output shape | params | trainable | MACs | norm MACs | weight bytes | activation bytes |',
    );
    expect(lines[2]).toBe('| conv | Conv2D | [1, 101, 40, 8] | 80 | 80 | 290,880 | 0 | 320 | 129,280 |');
    expect(lines[9]).toMatch(/^\| \*\*total\*\* \| \| \| 4,972 \| 4,956 \| /);
    // x 16,160 · conv +129,280 · bn +129,280 = 274,720 (then conv's output is freed) · relu the same.
    expect(p.total.peakActivationBytes).toBe(16160 + 2 * 129280);
    expect(text).toContain('Peak activation memory (batch 1): 274,720 bytes; weights: 19,888 bytes');
    expect(text).toContain('input [1, 101, 40, 1]');
    model.dispose();
  });
});

describe('profile: bad input', () => {
  it('throws KwsError for non-models, bad options and shapes that do not fit', () => {
    expectKws(() => profile({} as tfl.LayersModel), 'INVALID_ARGUMENT', /LayersModel/);
    expectKws(() => profile(null as unknown as tfl.LayersModel), 'INVALID_ARGUMENT');
    expectKws(
      () => profile(tfl.layers.dense({ units: 2 }) as unknown as tfl.LayersModel),
      'INVALID_ARGUMENT',
    );
    expectKws(() => profile(tfl.sequential()), 'MODEL_INVALID');
    const gru = tfl.sequential({
      layers: [tfl.layers.gru({ inputShape: [null, 4], units: 3, recurrentInitializer: 'glorotUniform' })],
    });
    expectKws(() => profile(gru, 'x' as unknown as object), 'INVALID_ARGUMENT');
    expectKws(() => profile(gru, { inputShape: [7] }), 'SHAPE_MISMATCH');
    expectKws(() => profile(gru, { inputShape: [7, 5] }), 'SHAPE_MISMATCH', /does not fit/);
    expectKws(() => profile(gru, { inputShape: [0, 4] }), 'INVALID_ARGUMENT', />= 1/);
    expectKws(() => profile(gru, { inputShape: [2.5, 4] }), 'INVALID_ARGUMENT');
    expectKws(() => profile(gru, { inputShape: 'abc' as unknown as number[] }), 'INVALID_ARGUMENT');
    expectKws(() => formatProfile({} as ModelProfile), 'INVALID_ARGUMENT');
    gru.dispose();
  });
});
