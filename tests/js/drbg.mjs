/**
 * The deterministic test randomness of tests/drbg.py, in JS (NOT for real use):
 * drbg(bound) is uniform in [0, bound) by rejection sampling over
 * SHA-256(seed || u64be(counter)) blocks.  Async, because WebCrypto hashing is.
 */
import { bytesToInt, concatBytes, sha256 } from '../../app/static/js/saylau-crypto.js';

export function makeDrbg(seed) {
  let counter = 0n;
  const block = async () => {
    const ctr = new Uint8Array(8);
    new DataView(ctr.buffer).setBigUint64(0, counter);
    counter += 1n;
    return sha256(concatBytes(seed, ctr));
  };
  return async (bound) => {
    bound = BigInt(bound);
    if (bound <= 0n) throw new RangeError('bound must be positive');
    const bits = bound.toString(2).length;
    const nbytes = Math.ceil(bits / 8);
    for (;;) {
      const blocks = [];
      let have = 0;
      while (have < nbytes) {
        const b = await block();
        blocks.push(b);
        have += b.length;
      }
      const value = bytesToInt(concatBytes(...blocks).slice(0, nbytes)) >> BigInt(nbytes * 8 - bits);
      if (value < bound) return value;
    }
  };
}
