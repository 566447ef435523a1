// Unit tests of saylau-crypto.js: encodings, arithmetic, proofs (with tampering),
// the precomputation pool, BallotClient, the worker handler and the Ed25519 ballot key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as sc from '../../app/static/js/saylau-crypto.js';
import { createWorkerHandler } from '../../app/static/js/ballot-worker.js';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/js-vectors.json', import.meta.url), 'utf8'));
const pk = new sc.PaillierPublicKey(BigInt('0x' + vectors.paillier_n));
const election = {
  manifest: vectors.election.manifest,
  election_key: vectors.election.election_key,
  issuer_key: vectors.election.issuer_key,
  board_key: vectors.election.board_key,
};
const tokenId = 'cd'.repeat(32);

test('hex encodings are canonical and strict', () => {
  assert.equal(sc.intToHex(0n), '0');
  assert.equal(sc.intToHex(255n), 'ff');
  assert.equal(sc.hexToInt('ff'), 255n);
  for (const bad of ['', '0ff', 'FF', '0x1', '-1', 'g', 12]) assert.throws(() => sc.hexToInt(bad), sc.InvalidEncoding);
  assert.throws(() => sc.hexToInt('1'.repeat(4097)), sc.InvalidEncoding);
  assert.throws(() => sc.intToHex(-1n), sc.InvalidEncoding);
  assert.deepEqual(sc.hexToBytes('00ff'), new Uint8Array([0, 255]));
  for (const bad of ['0', 'AB', 'zz']) assert.throws(() => sc.hexToBytes(bad), sc.InvalidEncoding);
  assert.throws(() => sc.hexToBytes('00', 2), sc.InvalidEncoding);
  assert.deepEqual(sc.intToBytes(258n, 4), new Uint8Array([0, 0, 1, 2]));
  assert.throws(() => sc.intToBytes(256n, 1), sc.InvalidEncoding);
  assert.equal(sc.byteLength(256n), 2);
});

test('canonical JSON refuses what Python refuses', () => {
  assert.equal(sc.canonicalJsonString({ b: [1, 'x'], a: null }), '{"a":null,"b":[1,"x"]}');
  for (const bad of [1.5, NaN, Infinity, 2 ** 60, undefined, { a: undefined }, '\ud800', () => 1]) {
    assert.throws(() => sc.canonicalJson(bad), sc.InvalidEncoding);
  }
});

test('modPow agrees with square-and-multiply; modInverse and gcd', () => {
  const naive = (b, e, m) => { let r = 1n; b %= m; while (e > 0n) { if (e & 1n) r = r * b % m; b = b * b % m; e >>= 1n; } return r; };
  const m = pk.nsquare;
  for (const e of [0n, 1n, 2n, 3n, 0x10001n, (1n << 256n) - 1n, pk.n, pk.n + 12345n]) {
    assert.equal(sc.modPow(pk.n - 7n, e, m), naive(pk.n - 7n, e, m));
  }
  assert.equal(sc.modPow(5n, -1n, 7n), 3n);
  assert.equal(sc.modInverse(3n, 7n), 5n);
  assert.throws(() => sc.modInverse(pk.n, m), sc.InvalidCiphertext);
  assert.equal(sc.gcd(12n, 18n), 6n);
  const x = sc.randomUnit(pk.n);
  assert.ok(x > 0n && x < pk.n && sc.gcd(x, pk.n) === 1n);
  assert.equal((x * sc.modInverse(x, pk.n)) % pk.n, 1n);
});

test('Paillier: range checks and homomorphic addition', () => {
  assert.throws(() => pk.encrypt(pk.n), sc.InvalidEncoding);
  assert.throws(() => pk.encrypt(-1n), sc.InvalidEncoding);
  assert.throws(() => pk.encrypt(1n, 0n), sc.InvalidEncoding);
  const { c: c1, r: r1 } = pk.encrypt(2n);
  const { c: c2, r: r2 } = pk.encrypt(3n);
  assert.equal(pk.add(c1, c2), pk.encrypt(5n, (r1 * r2) % pk.n).c);
  assert.throws(() => pk.validateCiphertext(pk.nsquare), sc.InvalidCiphertext);
  assert.throws(() => sc.PaillierPublicKey.fromJson({ n: 'ff' }), sc.InvalidKey);
  assert.equal(sc.PaillierPublicKey.fromJson(election.election_key).n > 0n, true);
});

test('membership proofs verify, and every tampering raises InvalidProof', async () => {
  const fingerprint = new Uint8Array(32).fill(7);
  const context = [['election_id', 'e'], ['question_id', 'q']];
  const opts = { domain: sc.DOMAIN_OPTION, fingerprint, context };
  const { c, r } = pk.encrypt(1n);
  const proof = await sc.proveMembership(pk, c, r, 1n, [0n, 1n], opts);
  await sc.verifyMembership(pk, c, [0n, 1n], proof, opts);
  await assert.rejects(sc.proveMembership(pk, c, r, 2n, [0n, 1n], opts), sc.InvalidProof);
  const bad = [
    [c, { ...proof, z: [proof.z[0], (proof.z[1] * 2n) % pk.n] }, opts],
    [c, { ...proof, e: [proof.e[0] + 1n, proof.e[1] - 1n] }, opts],
    [c, { ...proof, a: [proof.a[1], proof.a[0]] }, opts],
    [c, { ...proof, a: proof.a.slice(1), e: proof.e.slice(1), z: proof.z.slice(1) }, opts],
    [c, proof, { ...opts, domain: sc.DOMAIN_SELECTION_COUNT }],
    [c, proof, { ...opts, context: [['election_id', 'e'], ['question_id', 'q2']] }],
    [c, proof, { ...opts, fingerprint: new Uint8Array(32) }],
    [(c * 2n) % pk.nsquare, proof, opts],
    [pk.encrypt(1n).c, proof, opts],
    [0n, proof, opts],
  ];
  for (const [cc, pp, oo] of bad) await assert.rejects(sc.verifyMembership(pk, cc, [0n, 1n], pp, oo), sc.InvalidProof);
  // Statement ciphertexts are bound too.
  const withStatement = { ...opts, statementCiphertexts: [c, 5n] };
  const p2 = await sc.proveMembership(pk, c, r, 1n, [1n], withStatement);
  await sc.verifyMembership(pk, c, [1n], p2, withStatement);
  await assert.rejects(sc.verifyMembership(pk, c, [1n], p2, { ...opts, statementCiphertexts: [c, 6n] }), sc.InvalidProof);
  assert.deepEqual(sc.proofFromJson(sc.proofToJson(proof)), proof);
  assert.throws(() => sc.proofFromJson({ a: [], e: [], z: [] }), sc.InvalidEncoding);
});

test('BallotClient: pool, encrypt with progress, audit, JS verification; tampering is caught', async () => {
  const client = new sc.BallotClient(election, { ballots: 1 });
  assert.equal(await client.ready(), vectors.election.fingerprint);
  const need = client.needs();
  assert.deepEqual(need, { encryptions: 8, units: 2 * 8 + 1 + 3 });
  const seen = [];
  const filled = await client.precompute({ onProgress: (p) => seen.push(p) });
  assert.deepEqual(filled, need);
  assert.equal(seen.at(-1).done, seen.at(-1).total);
  const progress = [];
  const { ballot, secrets } = await client.encrypt({ q1: ['o2'], q2: ['b'] }, tokenId, (p) => progress.push(p));
  assert.deepEqual(client.pool.encryptions.length + client.pool.units.length, 0, 'pool consumed exactly');
  assert.deepEqual(progress.map((p) => p.done), [...Array(10).keys()].map((i) => i + 1));
  await client.verify(ballot, tokenId);
  assert.deepEqual(client.audit(ballot, secrets), { q1: ['o2'], q2: ['b'] });
  // Tampered ciphertext / secrets / choices.
  const swapped = structuredClone(ballot);
  [swapped.contests[0].selections[0].ciphertext, swapped.contests[0].selections[1].ciphertext] =
    [swapped.contests[0].selections[1].ciphertext, swapped.contests[0].selections[0].ciphertext];
  await assert.rejects(client.verify(swapped, tokenId), sc.InvalidProof);
  await assert.rejects(client.verify(ballot, 'ab'.repeat(32)), sc.InvalidBallot);
  const lying = structuredClone(secrets);
  lying.q1.o2.m = 0;
  assert.throws(() => client.audit(ballot, lying), sc.InvalidBallot);
  await assert.rejects(client.encrypt({ q1: ['o1', 'o2'] }, tokenId), sc.InvalidBallot);
  await assert.rejects(client.encrypt({ q1: ['nope'] }, tokenId), sc.InvalidBallot);
  await assert.rejects(client.encrypt({ q1: ['o1'], q9: [] }, tokenId), sc.InvalidBallot);
  await assert.rejects(client.encrypt({ q1: ['o1'] }, 'ab'), sc.InvalidEncoding);
  // Without a pool entry left, encryption still works (computed on the spot).
  const second = await client.encrypt({ q1: ['o5'] }, tokenId);
  await client.verify(second.ballot, tokenId);
  assert.notEqual(second.ballot.contests[0].selections[0].ciphertext, ballot.contests[0].selections[0].ciphertext);
});

test('BallotClient refuses a wrong published fingerprint', async () => {
  const client = new sc.BallotClient({ ...election, fingerprint: '00'.repeat(32) });
  await assert.rejects(client.ready(), sc.InvalidEncoding);
});

test('worker handler: init, precompute, encrypt with progress, audit, errors', async () => {
  const messages = [];
  const handle = createWorkerHandler((m) => messages.push(m));
  await handle({ id: 0, type: 'encrypt', choices: {}, tokenId });
  assert.equal(messages.pop().type, 'error');
  await handle({ id: 1, type: 'init', election });
  assert.deepEqual(messages.pop(), { id: 1, type: 'done', result: { fingerprint: vectors.election.fingerprint } });
  const pre = handle({ id: 2, type: 'precompute', ballots: 1 });
  const enc = handle({ id: 3, type: 'encrypt', choices: { q1: ['o1'] }, tokenId });
  await Promise.all([pre, enc]);
  const done3 = messages.find((m) => m.id === 3 && m.type === 'done');
  assert.ok(messages.some((m) => m.id === 3 && m.type === 'progress'));
  assert.ok(messages.some((m) => m.id === 2 && m.type === 'progress'));
  assert.ok(messages.some((m) => m.id === 2 && m.type === 'done'));
  await handle({ id: 4, type: 'audit', ballot: done3.result.ballot, secrets: done3.result.secrets });
  assert.deepEqual(messages.pop().result, { chosen: { q1: ['o1'], q2: [] } });
  await handle({ id: 5, type: 'bogus' });
  assert.equal(messages.pop().type, 'error');
});

test('Ed25519 ballot key: raw public key, signature over canonical JSON, tampering', async () => {
  const key = await sc.generateBallotKey();
  assert.equal(key.publicKeyBytes.length, 32);
  const ballot = { b: 1, a: 'x' };
  const sig = await sc.signBallot(key.privateKey, ballot);
  assert.equal(sig.length, 64);
  await sc.verifyPayloadSignature(key.publicKeyBytes, sc.canonicalJson(ballot), sig);
  await assert.rejects(sc.verifyPayloadSignature(key.publicKeyBytes, sc.canonicalJson({ b: 2, a: 'x' }), sig), sc.InvalidSignature);
  sig[0] ^= 1;
  await assert.rejects(sc.verifyPayloadSignature(key.publicKeyBytes, sc.canonicalJson(ballot), sig), sc.InvalidSignature);
  await assert.rejects(sc.credentialMessage('', key.publicKeyBytes), sc.InvalidEncoding);
  await assert.rejects(sc.credentialMessage('e', key.publicKeyBytes.slice(1)), sc.InvalidEncoding);
});

test('trackerOf is tracker_of of Python (§5.4) and follows every byte of the ballot', async () => {
  // Expected values from tally.verify_board.tracker_of on the same JSON.
  assert.equal(await sc.trackerOf(vectors.ballot.ballot),
    '635fe8735f29cf6e629df1134ccbc1c073badb871fe529b8336c08a92809aebd');
  const small = { election_id: 'e1', token_id: '00'.repeat(32), contests: [], note: 'é中' };
  assert.equal(await sc.trackerOf(small), 'd5804a1b5253d6c3da13422a321636eab0008dda6d2df4203fd0eb13ff40800a');
  assert.notEqual(await sc.trackerOf({ ...small, election_id: 'e2' }), await sc.trackerOf(small));
  assert.equal(sc.TRACKER_DOMAIN, 'saylau/v1/tracker');
});

test('worker protocol: RpcClient and createRpcHandler talk to each other (progress, errors)', async () => {
  const { RpcClient, createRpcHandler, IN_WORKER } = await import('../../app/static/js/crypto/rpc.js');
  assert.equal(IN_WORKER, false);
  let handle;
  const client = new RpcClient((msg) => { handle(msg); }, { ErrorClass: sc.CryptoError });
  handle = createRpcHandler((msg) => client.receive(msg), {
    async square(m, progress) { progress({ done: 1, total: 1 }); return m.x * m.x; },
    fail() { throw new sc.InvalidProof('nope'); },
  });
  const progress = [];
  assert.equal(await client.call('square', { x: 7 }, (p) => progress.push(p)), 49);
  assert.deepEqual(progress, [{ done: 1, total: 1 }]);
  await assert.rejects(client.call('fail'), (err) => err instanceof sc.CryptoError && err.message === 'nope');
  await assert.rejects(client.call('toString'), /unknown request type "toString"/);
  assert.equal(client.pending.size, 0);
});
