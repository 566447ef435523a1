/**
 * crypto/precompute.js — §6.4 Precomputation pool: r^n (eq. P1) and the proof commitments ρ^n, z_i^n
 * (eq. Z2) computed ahead of the vote, each handed out once.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { drawUnit, modInverse, modPow, systemRng } from './bigint.js';

/**
 * A pool of values that do not depend on the vote, computed ahead of time:
 *   encryption entries {r, rn = r^n mod N, rnInv = (r^n)^-1 mod N}   (eq. P1)
 *   unit entries       {x, xn = x^n mod N}     (ρ for a_j = ρ^n, z_i for a_i, eq. Z2)
 * Every entry is handed out once and removed: reusing ρ would reveal r.
 */
export class PrecomputePool {
  constructor(pk, { rng = systemRng } = {}) {
    this.pk = pk;
    this.rng = rng;
    this.encryptions = [];
    this.units = [];
  }

  async makeEncryption() {
    const r = await drawUnit(this.rng, this.pk.n);
    const rn = modPow(r, this.pk.n, this.pk.nsquare);
    return { r, rn, rnInv: modInverse(rn, this.pk.nsquare) };
  }

  async makeUnit() {
    const x = await drawUnit(this.rng, this.pk.n);
    return { x, xn: modPow(x, this.pk.n, this.pk.nsquare) };
  }

  /** The next encryption entry (computed now if the pool is empty). */
  async takeEncryption() {
    return this.encryptions.length ? this.encryptions.shift() : this.makeEncryption();
  }

  /** The next unit entry (computed now if the pool is empty). */
  async takeUnit() {
    return this.units.length ? this.units.shift() : this.makeUnit();
  }

  /**
   * Fill up to `encryptions` / `units` entries, yielding to the event loop between
   * exponentiations so that the page (or worker messages) stay responsive.
   * `onProgress({stage: 'precompute', done, total})`; stops early when shouldStop().
   */
  async fill({ encryptions = 0, units = 0 }, { onProgress, shouldStop, waitWhile } = {}) {
    const needE = Math.max(0, encryptions - this.encryptions.length);
    const needU = Math.max(0, units - this.units.length);
    const total = needE + needU;
    let done = 0;
    for (let i = 0; i < total; i++) {
      await yieldToEventLoop();
      if (waitWhile) await waitWhile();
      if (shouldStop && shouldStop()) break;
      if (this.encryptions.length < encryptions) this.encryptions.push(await this.makeEncryption());
      else if (this.units.length < units) this.units.push(await this.makeUnit());
      else break;
      done++;
      if (onProgress) onProgress({ stage: 'precompute', done, total });
    }
    return { encryptions: this.encryptions.length, units: this.units.length };
  }

  /** Forget every secret entry. */
  clear() {
    this.encryptions.length = 0;
    this.units.length = 0;
  }
}

export function yieldToEventLoop() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * eq. P1 for a plaintext that will be proven: c = (1 + m·n)·r^n mod N, taking r^n from
 * `pool` when given (with c^-1 = (1 − m·n)·r^-n mod N, which spares the proof an
 * inversion per simulated branch), else drawing r from `rng` as Python does.
 * Returns {r, c, cInverse (undefined without a pool)}.
 */
export async function encryptForProof(pk, m, { rng = systemRng, pool = undefined } = {}) {
  const N = pk.nsquare;
  if (pool) {
    const entry = await pool.takeEncryption();
    const cInverse = ((1n + N - ((m * pk.n) % N)) % N) * entry.rnInv % N;
    return { r: entry.r, c: pk.encryptWithRn(m, entry.rn), cInverse };
  }
  const r = await drawUnit(rng, pk.n);
  return { r, c: pk.encryptWithRn(m, modPow(r, pk.n, N)), cInverse: undefined };
}
