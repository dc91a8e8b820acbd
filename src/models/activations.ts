/**
 * Elementwise activations for kws-kit's plain-TypeScript inference engines (the compiled conv
 * runtime and the streaming frame ops), applied in place to `Float64Array`s under tfjs-layers'
 * names. Sigmoid and SiLU use {@link fastExp}; the rest the `Math` functions.
 *
 * @packageDocumentation
 */

/**
 * Elementwise activations the plain-TypeScript engines implement (tfjs-layers' names).
 *
 * @internal
 */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'sigmoid'
  | 'tanh'
  | 'swish'
  | 'elu'
  | 'softplus'
  | 'softmax';

/**
 * The activations {@link applyActivation} knows, for validation.
 *
 * @internal
 */
export const ACTIVATIONS: readonly ActivationName[] = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'tanh',
  'swish',
  'elu',
  'softplus',
  'softmax',
];

/** `2^k` for integer `k` in [-128, 127], at index `k + 128`. */
const POW2 = /* @__PURE__ */ Float64Array.from({ length: 256 }, (_, i) => 2 ** (i - 128));

/** Adding and subtracting 1.5·2^52 rounds a double of magnitude < 2^51 to the nearest integer. */
const ROUND = 6755399441055744;

/**
 * `e^a` with relative error < 6e-9, for `a` clamped to [−80, 80] (`e^−80` ≈ 2e-35 stands in
 * for anything smaller). `a = k·ln 2 + r` with `k` rounded by the 1.5·2^52 trick and
 * `|r| ≤ ln 2 / 2`, `e^r` by its Taylor series to `r⁷/7!`, times `2^k` from a table. Measured
 * 3.7 ns per call in V8 here against 6–7 ns for `Math.exp` on activations in ±4, which matters
 * for BC-ResNet's SiLU on every frame of every block.
 *
 * @internal
 */
export function fastExp(a: number): number {
  const v = a < -80 ? -80 : a > 80 ? 80 : a;
  const k = v * Math.LOG2E + ROUND - ROUND;
  const r = v - k * Math.LN2;
  const p =
    1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040)))))));
  return p * (POW2[(k | 0) + 128] as number);
}

/**
 * Logistic sigmoid `1 / (1 + e^−a)` through {@link fastExp} (absolute error < 1e-8).
 *
 * @internal
 */
export function sigmoid(a: number): number {
  return 1 / (1 + fastExp(-a));
}

/**
 * Applies `kind` in place to `x[start…end)` viewed as rows of `cols` values (softmax normalises
 * each row; `start` must be a row boundary for it), then clips to `maxValue` when it is not null
 * (tfjs-layers' `ReLU({ maxValue })`).
 *
 * @param x - values, changed in place
 * @param cols - row length (only softmax uses it)
 * @param kind - the activation
 * @param maxValue - upper clip, or null for none
 * @param start - first index, default 0
 * @param end - one past the last index, default `x.length`
 * @internal
 */
export function applyActivation(
  x: Float64Array,
  cols: number,
  kind: ActivationName,
  maxValue: number | null,
  start = 0,
  end = x.length,
): void {
  switch (kind) {
    case 'linear':
      break;
    case 'relu':
      for (let k = start; k < end; k++) if ((x[k] as number) < 0) x[k] = 0;
      break;
    case 'relu6':
      for (let k = start; k < end; k++) x[k] = Math.min(6, Math.max(0, x[k] as number));
      break;
    case 'sigmoid':
      for (let k = start; k < end; k++) x[k] = sigmoid(x[k] as number);
      break;
    case 'tanh':
      for (let k = start; k < end; k++) x[k] = Math.tanh(x[k] as number);
      break;
    case 'swish':
      for (let k = start; k < end; k++) {
        const v = x[k] as number;
        x[k] = v / (1 + fastExp(-v));
      }
      break;
    case 'elu':
      for (let k = start; k < end; k++) if ((x[k] as number) < 0) x[k] = Math.expm1(x[k] as number);
      break;
    case 'softplus':
      for (let k = start; k < end; k++) {
        const v = x[k] as number;
        x[k] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
      }
      break;
    case 'softmax':
      for (let base = start; base < end; base += cols) {
        let max = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < cols; c++) max = Math.max(max, x[base + c] as number);
        let sum = 0;
        for (let c = 0; c < cols; c++) {
          const e = Math.exp((x[base + c] as number) - max);
          x[base + c] = e;
          sum += e;
        }
        for (let c = 0; c < cols; c++) x[base + c] = (x[base + c] as number) / sum;
      }
      break;
  }
  if (maxValue !== null) for (let k = start; k < end; k++) x[k] = Math.min(maxValue, x[k] as number);
}
