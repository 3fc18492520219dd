/**
 * Small seeded PRNGs with serialisable state, so that training can resume exactly and a
 * sample's augmentation depends only on (seed, epoch, position), never on worker count.
 */

/** mulberry32: one 32-bit word of state; fine for shuffles. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mix any number of integers into one 32-bit seed (murmur3 finaliser per word). */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.imul((p | 0) ^ Math.floor(p / 4294967296), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32 state: four 32-bit words (JSON-serialisable). */
export type RngState = [number, number, number, number];

/** sfc32 generator whose state can be saved (`state()`) and restored (`fromState`). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  private constructor(s: RngState) {
    [this.#a, this.#b, this.#c, this.#d] = s;
  }

  /** A generator from integer seed parts, e.g. `Rng.seeded(seed, epoch, index)`. */
  static seeded(...parts: number[]): Rng {
    const r = new Rng([hashSeed(...parts, 1), hashSeed(...parts, 2), hashSeed(...parts, 3), 1]);
    for (let i = 0; i < 12; i++) r.nextUint32(); // warm up
    return r;
  }

  static fromState(s: RngState): Rng {
    return new Rng([s[0] >>> 0, s[1] >>> 0, s[2] >>> 0, s[3] >>> 0]);
  }

  state(): RngState {
    return [this.#a, this.#b, this.#c, this.#d];
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Float uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
