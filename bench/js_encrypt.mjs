/**
 * Benchmark of the browser client in Node: encrypt and prove a 5-option 1-of-5 ballot
 * at 2048 and 3072 bits, with and without the precomputation pool.
 *
 *   node bench/js_encrypt.mjs [bits ...]        (default: 2048 3072)
 *
 * Times are reported as milliseconds and as ratios against the raw floor measured in
 * the same run: one full exponentiation r^n mod n^2 (the cost of one encryption).
 * The Paillier modulus is a product of two random primes generated here (Miller–Rabin);
 * it is a throwaway benchmark key.
 */
import * as sc from '../app/static/js/saylau-crypto.js';

const SMALL_PRIMES = [];
for (let p = 3; SMALL_PRIMES.length < 300; p += 2) if (SMALL_PRIMES.every((q) => p % q)) SMALL_PRIMES.push(p);

function isProbablePrime(n, rounds = 24) {
  for (const p of SMALL_PRIMES) if (n % BigInt(p) === 0n) return n === BigInt(p);
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) { d >>= 1n; s++; }
  for (let i = 0; i < rounds; i++) {
    const a = 2n + sc.randomBelow(n - 3n);
    let x = sc.modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === n - 1n) { composite = false; break; }
    }
    if (composite) return false;
  }
  return true;
}

function randomPrime(bits) {
  for (;;) {
    const x = sc.randomBelow(1n << BigInt(bits)) | (3n << BigInt(bits - 2)) | 1n;
    if (isProbablePrime(x)) return x;
  }
}

function paillierModulus(bits) {
  for (;;) {
    const p = randomPrime(bits / 2);
    const q = randomPrime(bits / 2);
    const n = p * q;
    if (p !== q && sc.bitLength(n) === bits) return n;
  }
}

async function time(fn) {
  const t0 = performance.now();
  const result = await fn();
  return { ms: performance.now() - t0, result };
}

const manifest = {
  election_id: 'bench', title: 'Benchmark',
  questions: [{ id: 'q', title: 'Pick one', min_selections: 1, max_selections: 1,
    options: [1, 2, 3, 4, 5].map((i) => ({ id: `o${i}`, label: `Option ${i}` })) }],
};
const tokenId = 'ab'.repeat(32);
const choices = { q: ['o3'] };
const sizes = process.argv.slice(2).map(Number);

console.log(`node ${process.version}; 5-option 1-of-5 ballot (16 full exponentiations a ballot)`);
for (const bits of sizes.length ? sizes : [2048, 3072]) {
  const keygen = await time(() => paillierModulus(bits));
  const n = keygen.result;
  const election = { manifest, election_key: { n: sc.intToHex(n) }, issuer_key: { n: 'ff', e: '3' },
    board_key: '00'.repeat(32) };
  const pk = new sc.PaillierPublicKey(n);
  const r = sc.randomUnit(n);
  const reps = 5;
  const floor = (await time(() => { for (let i = 0; i < reps; i++) sc.modPow(r, n, pk.nsquare); })).ms / reps;

  const cold = new sc.BallotClient(election); // empty pool: every value computed on the spot
  await cold.ready();
  const coldRun = await time(() => cold.encrypt(choices, tokenId));

  const warm = new sc.BallotClient(election, { ballots: 1 });
  await warm.ready();
  const fill = await time(() => warm.precompute());
  const warmRun = await time(() => warm.encrypt(choices, tokenId));
  const verify = await time(() => warm.verify(warmRun.result.ballot, tokenId));

  const row = (label, ms) => console.log(`  ${label.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms  ${(ms / floor).toFixed(2).padStart(7)} × floor`);
  console.log(`${bits}-bit n (key generation ${(keygen.ms / 1000).toFixed(1)} s, not part of the ballot):`);
  row('floor: r^n mod n^2', floor);
  row('encrypt + prove, no pool (on the spot)', coldRun.ms);
  row('pool fill for one ballot (background)', fill.ms);
  row('encrypt + prove from a filled pool', warmRun.ms);
  row('verify the ballot in JS (11 full exps)', verify.ms);
}
