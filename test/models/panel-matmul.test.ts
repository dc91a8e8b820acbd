import { describe, expect, it } from 'vitest';
import { matRows, matRowsStationary, toPanels } from '../../src/models/panel-matmul.js';
import { createRng } from '../../src/random.js';

// The weight-stationary product against the panel product it stands in for, on the shapes of
// BC-ResNet's 1×1 convolutions at several widths and on the remainders of its chunks and blocks.

const rng = createRng(21);
const doubles = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());

describe('matRowsStationary', () => {
  // [rows, inSize, outSize]: BC-ResNet-1 and -1.5 shapes (inputs 8/16/20 = chunks of 8 and 4, 12,
  // 18 and 30 = remainders of 1–2 inputs, outputs 18/30 = a partial block), rows across tiles of 64.
  const shapes: [number, number, number][] = [
    [2020, 16, 8],
    [2020, 8, 12],
    [1010, 12, 16],
    [505, 16, 20],
    [101, 20, 32],
    [1010, 18, 24],
    [505, 30, 30],
    [65, 3, 5],
    [1, 1, 1],
    [64, 9, 2],
  ];
  it.each(shapes)(
    '%i rows × %i inputs → %i outputs equal matRows to float64 rounding',
    (rows, inSize, out) => {
      const w = doubles(inSize * out);
      const bias = doubles(out);
      const p = toPanels(w, inSize, out, { bias });
      // Offsets and strides wider than a row: values between rows must be left alone.
      const xOff = 3;
      const xStride = inSize + 2;
      const yOff = 5;
      const yStride = out + 3;
      const x = doubles(xOff + rows * xStride);
      for (const relu of [false, true]) {
        const ref = new Float64Array(yOff + rows * yStride).fill(7);
        const y = new Float64Array(yOff + rows * yStride).fill(7);
        matRows(p, x, xOff, xStride, rows, ref, yOff, yStride, relu);
        matRowsStationary(p, x, xOff, xStride, rows, y, yOff, yStride, relu);
        let err = 0;
        for (let i = 0; i < y.length; i++) {
          err = Math.max(
            err,
            Math.abs((y[i] as number) - (ref[i] as number)) / Math.max(1, Math.abs(ref[i] as number)),
          );
        }
        // Sums of ≤ 32 products in another order: a few ulps.
        expect(err).toBeLessThan(1e-14);
        if (relu) expect(Math.min(...y)).toBeGreaterThanOrEqual(0);
      }
    },
  );

  it('gives every row the same bits whether computed alone or with others', () => {
    const [rows, inSize, out] = [130, 20, 18];
    const p = toPanels(doubles(inSize * out), inSize, out, { bias: doubles(out) });
    const x = doubles(rows * inSize);
    const all = new Float64Array(rows * out);
    matRowsStationary(p, x, 0, inSize, rows, all, 0, out, true);
    const one = new Float64Array(out);
    for (const r of [0, 63, 64, 65, 129]) {
      matRowsStationary(p, x, r * inSize, inSize, 1, one, 0, out, true);
      expect(Array.from(one)).toEqual(Array.from(all.subarray(r * out, (r + 1) * out)));
    }
  });
});
