/**
 * Helper for tests/crypto/test_js_crosscheck.py: reads a JSON request on stdin, runs one
 * operation with the JS client, writes the JSON result on stdout.
 *   ballot       {election, choices, token_id}          → {ballot, secrets, ballot_public_key, signature, canonical}
 *   cred-begin   {issuer_key, scope_id}                  → {blinded, state}
 *   cred-finish  {issuer_key, state, blind_signature}   → credential JSON
 */
import * as sc from '../../app/static/js/saylau-crypto.js';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const H = sc.hexToBytes;
let out;

if (process.argv[2] === 'ballot') {
  const client = new sc.BallotClient(req.election, { ballots: 1 });
  await client.ready();
  await client.precompute();
  const { ballot, secrets } = await client.encrypt(req.choices, req.token_id);
  const key = await sc.generateBallotKey();
  out = {
    ballot, secrets,
    canonical: sc.bytesToHex(sc.canonicalJson(ballot)),
    ballot_public_key: sc.bytesToHex(key.publicKeyBytes),
    signature: sc.bytesToHex(await sc.signBallot(key.privateKey, ballot)),
  };
} else if (process.argv[2] === 'cred-begin') {
  const key = await sc.generateBallotKey();
  const { blindedMessage, state } = await sc.beginCredential(req.issuer_key, req.scope_id, key.publicKeyBytes);
  out = {
    blinded: sc.bytesToHex(blindedMessage),
    state: { scope_id: state.scopeId, ballot_public_key: sc.bytesToHex(state.ballotPublicKey),
      randomizer: sc.bytesToHex(state.randomizer), inv: sc.intToHex(state.inv) },
  };
} else if (process.argv[2] === 'cred-finish') {
  const s = req.state;
  const state = { scopeId: s.scope_id, ballotPublicKey: H(s.ballot_public_key), randomizer: H(s.randomizer), inv: sc.hexToInt(s.inv) };
  out = await sc.finishCredential(req.issuer_key, state, H(req.blind_signature));
} else {
  throw new Error(`unknown operation ${process.argv[2]}`);
}
process.stdout.write(JSON.stringify(out) + '\n');
