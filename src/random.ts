/**
 * Seeded pseudo-random numbers for everything in kws-kit that needs randomness (augmentation,
 * data shuffling, initialisation, search), so that a run is reproducible from its seed.
 *
 * Generator: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * 2018), 128-bit state, period 2^128 − 1, seeded through SplitMix32 so that nearby seeds give
 * unrelated streams.
 *
 * @packageDocumentation
 */
import { KwsError } from './errors.js';

/** Serializable generator state: four unsigned 32-bit words. */
export type RngState = readonly [number, number, number, number];

function splitMix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded random number generator. Create with {@link createRng}; save and restore its
 * position with {@link Rng.getState} / {@link Rng.setState} (e.g. in training checkpoints).
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  /** @param seed any finite number; it is reduced to 32 bits. */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new KwsError('INVALID_ARGUMENT', `seed must be a finite number; got ${String(seed)}`);
    }
    const next = splitMix32((Math.floor(seed) >>> 0) ^ (Math.floor(seed / 0x100000000) >>> 0));
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // The all-zero state is a fixed point of xoshiro; SplitMix32 cannot yield four zeros in a row,
    // but guard anyway because setState may be handed anything.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** A uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** A uniform integer in [0, n) without modulo bias. `n` must be an integer in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) {
      throw new KwsError('INVALID_ARGUMENT', `n must be an integer in [1, 2^32]; got ${String(n)}`);
    }
    // Rejection sampling: drop the top partial copy of [0, n) in the 32-bit range.
    const limit = 0x100000000 - (0x100000000 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** A standard normal deviate (mean 0, variance 1), by the Box–Muller transform. */
  normal(): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return z;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A new generator whose stream is independent of this one's; advances this one by one draw. */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }

  /** The generator's position, to be restored with {@link Rng.setState}. */
  getState(): RngState {
    this.spareNormal = null;
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Restores a position saved with {@link Rng.getState}. */
  setState(state: RngState): void {
    if (
      !Array.isArray(state as unknown) ||
      state.length !== 4 ||
      !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) ||
      state.every((w) => w === 0)
    ) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        'state must be four unsigned 32-bit integers, not all zero, as returned by getState()',
      );
    }
    [this.s0, this.s1, this.s2, this.s3] = state;
    this.spareNormal = null;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Creates a seeded generator. The same seed always yields the same sequence. */
export function createRng(seed: number): Rng {
  return new Rng(seed);
}

/** Accepts either a seed or an existing generator, as options objects across kws-kit do. */
export function toRng(seedOrRng: number | Rng | undefined, fallbackSeed = 0): Rng {
  if (seedOrRng instanceof Rng) return seedOrRng;
  return new Rng(seedOrRng ?? fallbackSeed);
}
