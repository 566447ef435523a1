/**
 * crypto/ballot.js — §1.6 Ballots, eqs. B1–B3 (crypto/ballot.py): encrypt and prove, verify, the Benaloh
 * audit, and the ballot tracker of §5.4.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { systemRng } from './bigint.js';
import { normalizeManifest } from './election.js';
import { bytesToHex, canonicalJson, hexToBytes, hexToInt, intToHex } from './encoding.js';
import { InvalidBallot, InvalidEncoding, InvalidProof } from './errors.js';
import { encryptForProof, yieldToEventLoop } from './precompute.js';
import {
  DOMAIN_OPTION, DOMAIN_SELECTION_COUNT, proofFromJson, proofToJson, proveMembership, verifyMembership,
} from './proofs.js';
import { taggedHash } from './transcript.js';

export const OPTION_VALUES = [0n, 1n];

export function optionContext(electionId, questionId, optionId, tokenId) {
  return [['election_id', electionId], ['question_id', questionId],
    ['option_id', optionId], ['token_id', bytesToHex(tokenId)]];
}

export function countContext(electionId, questionId, tokenId) {
  return [['election_id', electionId], ['question_id', questionId], ['token_id', bytesToHex(tokenId)]];
}

function allowedCounts(q) {
  const out = [];
  for (let v = q.min_selections; v <= q.max_selections; v++) out.push(BigInt(v));
  return out;
}

/** Check choices {questionId: [optionId, ...]} against the manifest (InvalidBallot). */
export function checkChoices(manifest, choices) {
  const qids = new Set(manifest.questions.map((q) => q.id));
  const unknown = Object.keys(choices).filter((q) => !qids.has(q)).sort();
  if (unknown.length) throw new InvalidBallot(`unknown question(s): ${unknown.join(', ')}`);
  for (const q of manifest.questions) {
    const chosen = new Set(choices[q.id] || []);
    const ids = new Set(q.options.map((o) => o.id));
    for (const o of chosen) if (!ids.has(o)) throw new InvalidBallot(`question ${q.id}: unknown option(s)`);
    if (chosen.size < q.min_selections || chosen.size > q.max_selections) {
      throw new InvalidBallot(`question ${q.id}: choose between ${q.min_selections} and ${q.max_selections}`);
    }
  }
}

/** Number of pool entries one ballot consumes: {encryptions, units}. */
export function poolNeeds(manifest) {
  let encryptions = 0;
  let units = 0;
  for (const q of manifest.questions) {
    encryptions += q.options.length;
    units += 2 * q.options.length; // z_i for the other 0/1 branch, ρ
    units += q.max_selections - q.min_selections + 1; // count proof: |S| − 1 z_i and ρ
  }
  return { encryptions, units };
}

/**
 * Encrypt and prove a ballot (eqs. B1–B3), exactly as crypto.ballot.encrypt_ballot:
 *   c_i = Enc(x_i; r_i) with a proof for S = (0, 1), domain saylau/v1/option,
 *     context (election_id, question_id, option_id, token_id);
 *   C = ∏ c_i, R = ∏ r_i mod n with a proof for S = (min … max), domain
 *     saylau/v1/selection-count, context (election_id, question_id, token_id),
 *     statement (c_1 … c_k).
 * Returns {ballot, secrets}: ballot is EncryptedBallot.to_json(), secrets is
 * BallotSecrets.to_json() ({q: {o: {m, r}}}) for a Benaloh audit.
 * Options: rng, pool (PrecomputePool), onProgress({stage: 'encrypt', done, total}).
 */
export async function encryptBallot(pk, manifest, fingerprint, tokenId, choices, {
  rng = systemRng, pool = undefined, onProgress = undefined,
} = {}) {
  manifest = normalizeManifest(manifest);
  if (typeof tokenId === 'string') tokenId = hexToBytes(tokenId, 32, 'token id');
  if (tokenId.length !== 32) throw new InvalidEncoding('token id must be 32 bytes');
  checkChoices(manifest, choices);
  const eid = manifest.election_id;
  const N = pk.nsquare;
  const total = manifest.questions.reduce((s, q) => s + q.options.length + 1, 0);
  let done = 0;
  const step = async () => {
    done++;
    if (onProgress) onProgress({ stage: 'encrypt', done, total });
    await yieldToEventLoop();
  };
  const contests = [];
  const secrets = {};
  for (const q of manifest.questions) {
    const chosen = new Set(choices[q.id] || []);
    const selections = [];
    const cts = [];
    secrets[q.id] = {};
    let R = 1n;
    let cInvProduct = 1n;
    for (const o of q.options) {
      const m = chosen.has(o.id) ? 1n : 0n;
      const { r, c, cInverse } = await encryptForProof(pk, m, { rng, pool });
      const proof = await proveMembership(pk, c, r, m, OPTION_VALUES, {
        domain: DOMAIN_OPTION, fingerprint, context: optionContext(eid, q.id, o.id, tokenId),
        rng, pool, cInverse,
      });
      selections.push({ option_id: o.id, ciphertext: intToHex(c), proof: proofToJson(proof) });
      cts.push(c);
      secrets[q.id][o.id] = { m: Number(m), r: intToHex(r) };
      R = (R * r) % pk.n;
      cInvProduct = cInverse !== undefined && cInvProduct !== undefined ? (cInvProduct * cInverse) % N : undefined;
      await step();
    }
    const C = pk.add(...cts);
    const countProof = await proveMembership(pk, C, R, BigInt(chosen.size), allowedCounts(q), {
      domain: DOMAIN_SELECTION_COUNT, fingerprint, context: countContext(eid, q.id, tokenId),
      statementCiphertexts: cts, rng, pool, cInverse: cInvProduct,
    });
    contests.push({ question_id: q.id, selections, count_proof: proofToJson(countProof) });
    await step();
  }
  return {
    ballot: { election_id: eid, token_id: bytesToHex(tokenId), contests },
    secrets,
  };
}

/** Verify every proof of a ballot JSON (as crypto.ballot.verify_ballot); raises. */
export async function verifyBallot(pk, manifest, fingerprint, ballot, tokenId) {
  manifest = normalizeManifest(manifest);
  if (typeof tokenId !== 'string') tokenId = bytesToHex(tokenId);
  if (ballot.election_id !== manifest.election_id) throw new InvalidBallot('ballot is for another election');
  if (ballot.token_id !== tokenId) throw new InvalidBallot('ballot token id does not match the credential');
  const tid = hexToBytes(tokenId, 32);
  if (!Array.isArray(ballot.contests) || ballot.contests.map((c) => c.question_id).join('\n')
      !== manifest.questions.map((q) => q.id).join('\n') || ballot.contests.length !== manifest.questions.length) {
    throw new InvalidBallot('ballot questions do not match the manifest (order matters)');
  }
  for (let qi = 0; qi < manifest.questions.length; qi++) {
    const q = manifest.questions[qi];
    const contest = ballot.contests[qi];
    if (!Array.isArray(contest.selections) || contest.selections.length !== q.options.length
        || contest.selections.some((s, i) => s.option_id !== q.options[i].id)) {
      throw new InvalidBallot(`question ${q.id}: options do not match the manifest`);
    }
    const cts = [];
    for (const s of contest.selections) {
      const c = hexToInt(s.ciphertext, 'ciphertext');
      pk.validateCiphertext(c);
      cts.push(c);
      try {
        await verifyMembership(pk, c, OPTION_VALUES, proofFromJson(s.proof), {
          domain: DOMAIN_OPTION, fingerprint,
          context: optionContext(manifest.election_id, q.id, s.option_id, tid),
        });
      } catch (err) {
        if (err instanceof InvalidProof) throw new InvalidProof(`question ${q.id}, option ${s.option_id}: ${err.message}`);
        throw err;
      }
    }
    try {
      await verifyMembership(pk, pk.add(...cts), allowedCounts(q), proofFromJson(contest.count_proof), {
        domain: DOMAIN_SELECTION_COUNT, fingerprint,
        context: countContext(manifest.election_id, q.id, tid), statementCiphertexts: cts,
      });
    } catch (err) {
      if (err instanceof InvalidProof) throw new InvalidProof(`question ${q.id}, selection count: ${err.message}`);
      throw err;
    }
  }
}

/**
 * Benaloh audit (verify_audited_ballot): re-encrypt with the revealed plaintexts and
 * randomness, check every ciphertext, return {questionId: [chosen option ids]}.
 */
export function auditBallot(pk, manifest, ballot, secrets) {
  manifest = normalizeManifest(manifest);
  const chosen = {};
  for (const contest of ballot.contests) {
    chosen[contest.question_id] = [];
    for (const s of contest.selections) {
      const entry = secrets[contest.question_id] && secrets[contest.question_id][s.option_id];
      if (!entry) throw new InvalidBallot(`audit data lacks ${contest.question_id}/${s.option_id}`);
      if (entry.m !== 0 && entry.m !== 1) throw new InvalidEncoding('ballot secrets: m must be 0 or 1');
      const { c } = pk.encrypt(BigInt(entry.m), hexToInt(entry.r, 'r'));
      if (intToHex(c) !== s.ciphertext) {
        throw new InvalidBallot(`question ${contest.question_id}, option ${s.option_id}: the revealed `
          + 'plaintext and randomness do not reproduce the ciphertext');
      }
      if (entry.m) chosen[contest.question_id].push(s.option_id);
    }
  }
  return chosen;
}

export const TRACKER_DOMAIN = 'saylau/v1/tracker';

/**
 * §5.4: tracker = hex(tagged_hash("saylau/v1/tracker", ("ballot", canonical_json(ballot)))),
 * as tracker_of in Python; the booth shows it before the voter audits or casts.
 */
export async function trackerOf(ballot) {
  return bytesToHex(await taggedHash(TRACKER_DOMAIN, ['ballot', canonicalJson(ballot)]));
}
