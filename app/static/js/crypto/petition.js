/**
 * crypto/petition.js — §7.2–7.4 E-petitions (crypto/petition.py): parameters, fingerprint, the packed
 * region encoding B^i and the signature's region proof (domain saylau/v1/petition-region).
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { systemRng } from './bigint.js';
import {
  bytesToHex, canonicalJson, checkId, hexToBytes, hexToInt, intToHex, requireField,
} from './encoding.js';
import { InvalidBallot, InvalidEncoding, InvalidProof } from './errors.js';
import { encryptForProof } from './precompute.js';
import { proofFromJson, proofToJson, proveMembership, verifyMembership } from './proofs.js';
import { taggedHash } from './transcript.js';

export const PETITION_FINGERPRINT_DOMAIN = 'saylau/v1/petition-fingerprint';
export const DOMAIN_PETITION_REGION = 'saylau/v1/petition-region';
export const PETITION_DEFAULT_BASE_BITS = 32;
export const PETITION_MAX_REGIONS = 64;

/**
 * PetitionParameters.from_json(...).to_json(): validates and keeps exactly the fields
 * the fingerprint covers: {petition_id, title, regions: [{id, label}], base_bits}.
 * Raises InvalidEncoding like the Python constructor (1..64 unique regions, 8 <= b <= 64).
 */
export function normalizePetitionParameters(obj) {
  const petitionId = checkId(requireField(obj, 'petition_id', 'string', 'petition'), 'petition.petition_id');
  const title = requireField(obj, 'title', 'string', 'petition');
  const regions = requireField(obj, 'regions', 'array', 'petition').map((r, i) => ({
    id: checkId(requireField(r, 'id', 'string', `petition.regions[${i}]`), `petition.regions[${i}].id`),
    label: requireField(r, 'label', 'string', `petition.regions[${i}]`),
  }));
  const baseBits = requireField(obj, 'base_bits', 'int', 'petition');
  if (regions.length < 1 || regions.length > PETITION_MAX_REGIONS) {
    throw new InvalidEncoding(`a petition needs 1..${PETITION_MAX_REGIONS} regions`);
  }
  if (new Set(regions.map((r) => r.id)).size !== regions.length) throw new InvalidEncoding('region ids must be unique');
  if (baseBits < 8 || baseBits > 64) throw new InvalidEncoding('base_bits must be 8..64');
  return { petition_id: petitionId, title, regions, base_bits: baseBits };
}

/** S = (B^0, …, B^(R−1)) with B = 2^base_bits (PetitionParameters.allowed). */
export function petitionAllowed(params) {
  const b = BigInt(params.base_bits);
  return params.regions.map((_, i) => 1n << (b * BigInt(i)));
}

/** The packed plaintext B^i of region `regionId` (PetitionParameters.encode); InvalidBallot if unknown. */
export function encodeRegion(params, regionId) {
  const i = params.regions.findIndex((r) => r.id === regionId);
  if (i < 0) throw new InvalidBallot(`unknown region ${JSON.stringify(regionId)}`);
  return 1n << (BigInt(params.base_bits) * BigInt(i));
}

/** PetitionParameters.check_key: R·b < |n| − 1, else InvalidEncoding. */
export function checkPetitionKey(pk, params) {
  if (params.regions.length * params.base_bits >= pk.bits - 1) {
    throw new InvalidEncoding('too many regions for this key size');
  }
}

/** region_context: [["petition_id", id], ["token_id", hex]]. */
export function regionContext(petitionId, tokenIdBytes) {
  return [['petition_id', petitionId], ['token_id', bytesToHex(tokenIdBytes)]];
}

/**
 * petition_fingerprint: tagged_hash("saylau/v1/petition-fingerprint",
 *   petition = canonical_json(params), election_key = canonical_json(election key JSON),
 *   issuer_key = canonical_json(issuer key JSON), board_key = 32 raw Ed25519 bytes).
 * `boardKeyBytes` may be a Uint8Array or its hex.
 */
export async function petitionFingerprint(params, electionKeyJson, issuerKeyJson, boardKeyBytes) {
  if (typeof boardKeyBytes === 'string') boardKeyBytes = hexToBytes(boardKeyBytes, 32, 'board key');
  if (!(boardKeyBytes instanceof Uint8Array) || boardKeyBytes.length !== 32) {
    throw new InvalidEncoding('board public key must be 32 bytes (Ed25519)');
  }
  return taggedHash(PETITION_FINGERPRINT_DOMAIN,
    ['petition', canonicalJson(normalizePetitionParameters(params))],
    ['election_key', canonicalJson(electionKeyJson)],
    ['issuer_key', canonicalJson(issuerKeyJson)],
    ['board_key', boardKeyBytes]);
}

/** Pool entries one petition signature consumes: one encryption, R units (R − 1 z_i and ρ). */
export function petitionPoolNeeds(params) {
  return { encryptions: 1, units: params.regions.length };
}

function tokenBytes(tokenId) {
  if (typeof tokenId === 'string') tokenId = hexToBytes(tokenId, 32, 'token id');
  if (!(tokenId instanceof Uint8Array) || tokenId.length !== 32) throw new InvalidEncoding('token id must be 32 bytes');
  return tokenId;
}

/**
 * encrypt_signature: c = Enc(B^i; r) and a membership proof for S = (B^0..B^(R−1)),
 * domain "saylau/v1/petition-region", context (petition_id, token_id).  Returns
 * EncryptedSignature.to_json(): {petition_id, token_id, region: {ciphertext, proof}}.
 * The rng is drawn in Python's order (r, then for i ≠ j: e_i, z_i; then ρ), so the same
 * source gives byte-identical JSON; with a `pool`, r, z_i^n and ρ^n come from it.
 */
export async function encryptPetitionSignature(pk, params, fingerprint, tokenId, regionId, {
  rng = systemRng, pool = undefined,
} = {}) {
  params = normalizePetitionParameters(params);
  checkPetitionKey(pk, params);
  const tid = tokenBytes(tokenId);
  const m = encodeRegion(params, regionId);
  const { r, c, cInverse } = await encryptForProof(pk, m, { rng, pool });
  const proof = await proveMembership(pk, c, r, m, petitionAllowed(params), {
    domain: DOMAIN_PETITION_REGION, fingerprint, context: regionContext(params.petition_id, tid),
    rng, pool, cInverse,
  });
  return {
    petition_id: params.petition_id,
    token_id: bytesToHex(tid),
    region: { ciphertext: intToHex(c), proof: proofToJson(proof) },
  };
}

/** verify_signature: shape checks and the region proof; raises InvalidBallot / InvalidCiphertext / InvalidProof. */
export async function verifyPetitionSignature(pk, params, fingerprint, signature, tokenId) {
  params = normalizePetitionParameters(params);
  checkPetitionKey(pk, params);
  const tid = tokenBytes(tokenId);
  if (!signature || typeof signature !== 'object') throw new InvalidEncoding('signature: expected an object');
  if (signature.petition_id !== params.petition_id) throw new InvalidBallot('signature is for another petition');
  if (signature.token_id !== bytesToHex(tid)) throw new InvalidBallot('signature token id does not match the credential');
  const region = requireField(signature, 'region', 'object', 'signature');
  const c = hexToInt(requireField(region, 'ciphertext', 'string', 'signature.region'), 'ciphertext');
  pk.validateCiphertext(c);
  try {
    await verifyMembership(pk, c, petitionAllowed(params), proofFromJson(region.proof, 'signature.region.proof'), {
      domain: DOMAIN_PETITION_REGION, fingerprint, context: regionContext(params.petition_id, tid),
    });
  } catch (err) {
    if (err instanceof InvalidProof) throw new InvalidProof(`region proof: ${err.message}`);
    throw err;
  }
}
