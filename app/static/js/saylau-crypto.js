/**
 * saylau-crypto.js — the voter-side cryptography of Saylau, in plain JavaScript: the public
 * API of the ES modules in ./crypto/ (one concern each, no build step, no dependencies).
 *
 * It runs in browsers (main thread or a module Web Worker) and in Node >= 20
 * (globalThis.crypto.subtle).  Every function mirrors the Python reference implementation
 * in crypto/ and produces byte-identical JSON, so the server's Python verifier accepts what
 * it produces (docs/protocol.md §6):
 *
 *   crypto/errors.js      ← crypto/errors.py       typed errors
 *   crypto/encoding.js    ← crypto/encoding.py     hex, canonical JSON          (§1.1)
 *   crypto/webcrypto.js                            SHA-256/384, random bytes
 *   crypto/transcript.js  ← crypto/transcript.py   Fiat–Shamir transcript       (§1.2)
 *   crypto/bigint.js                               modular arithmetic, sampling (§6.2)
 *   crypto/paillier.js    ← crypto/paillier.py     Paillier, eq. P1             (§1.3)
 *   crypto/precompute.js                           precomputation pool          (§6.4)
 *   crypto/proofs.js      ← crypto/proofs.py       membership proofs, Z1–Z5     (§1.5)
 *   crypto/election.js    ← crypto/election.py     manifest, fingerprint F1     (§1.4)
 *   crypto/ballot.js      ← crypto/ballot.py       ballots B1–B3, tracker       (§1.6, §5.4)
 *   crypto/blind-rsa.js   ← crypto/blind_rsa.py    RFC 9474 client side         (§2.2)
 *   crypto/credentials.js ← crypto/credentials.py  credential message, token id (§2.3)
 *   crypto/ballot-key.js  ← crypto/credentials.py  Ed25519 ballot key           (§6.5)
 *   crypto/roll-key.js    ← crypto/roll.py         roll key, card, roll check   (§2.7)
 *   crypto/client.js                               BallotClient, WorkerBallotClient (§6.6)
 *   crypto/petition.js    ← crypto/petition.py     petition signatures          (§7.2–7.4)
 *
 * Randomness comes from crypto.getRandomValues unless an `rng` is injected (tests and
 * worked examples only).  As in the Python code (RandBelow in crypto/paillier.py), an
 * rng is a function bound → uniform BigInt in [0, bound) (it may return a Promise),
 * and it is called in exactly the order the Python code calls it, so the same source
 * (e.g. the DRBG of tests/drbg.py) gives byte-identical ciphertexts and proofs.  See
 * docs/sections/70-browser-client.md for the API.
 */

export {
  CryptoError, InvalidEncoding, InvalidKey, InvalidCiphertext, InvalidProof, InvalidBallot,
  InvalidSignature,
} from './crypto/errors.js';
export {
  MAX_INT_BITS, bytesToHex, hexToBytes, intToHex, hexToInt, bytesToInt, intToBytes, bitLength,
  byteLength, utf8, concatBytes, canonicalJsonString, canonicalJson,
} from './crypto/encoding.js';
export {
  sha256, sha384, randomBytes,
} from './crypto/webcrypto.js';
export {
  FIELD_BYTES, FIELD_INT, FIELD_TEXT, CHALLENGE_BITS, Transcript, taggedHash,
} from './crypto/transcript.js';
export {
  mod, gcd, modInverse, modPow, randomBelow, randomUnit, systemRng, drawUnit,
} from './crypto/bigint.js';
export {
  PaillierPublicKey,
} from './crypto/paillier.js';
export {
  PrecomputePool,
} from './crypto/precompute.js';
export {
  DOMAIN_OPTION, DOMAIN_SELECTION_COUNT, DOMAIN_DECRYPTION, membershipChallenge,
  proveMembership, verifyMembership, proofToJson, proofFromJson,
} from './crypto/proofs.js';
export {
  FINGERPRINT_DOMAIN, normalizeManifest, electionFingerprint,
} from './crypto/election.js';
export {
  OPTION_VALUES, optionContext, countContext, checkChoices, poolNeeds, encryptBallot,
  verifyBallot, auditBallot, TRACKER_DOMAIN, trackerOf,
} from './crypto/ballot.js';
export {
  RSABSSA_HASH_LEN, RANDOMIZER_LEN, SALT_LEN, issuerKeyFromJson, mgf1, emsaPssEncode, prepare,
  blind, rsaPssVerify, finalize,
} from './crypto/blind-rsa.js';
export {
  CREDENTIAL_MESSAGE_DOMAIN, TOKEN_ID_DOMAIN, credentialMessage, tokenId, beginCredential,
  finishCredential, credentialTokenId, requestCredential,
} from './crypto/credentials.js';
export { credentialRequestMessage, currentPeriod, signCredentialRequest } from './crypto/credential-request.js';
export {
  ROLL_KEY_FORMAT, ROLL_ENTRY_DOMAIN, ROLL_KEY_WARNING, generateRollKey, rollKeyCard, rollSigner,
  rollSignerFromCard, rollLeaf, rollRoot, findOnRoll,
} from './crypto/roll-key.js';
export {
  generateBallotKey, importBallotKeySeed, signPayload, signBallot, verifyPayloadSignature,
} from './crypto/ballot-key.js';
export {
  BallotClient, WorkerBallotClient,
} from './crypto/client.js';
export {
  PETITION_FINGERPRINT_DOMAIN, DOMAIN_PETITION_REGION, PETITION_DEFAULT_BASE_BITS,
  PETITION_MAX_REGIONS, normalizePetitionParameters, petitionAllowed, encodeRegion,
  checkPetitionKey, regionContext, petitionFingerprint, petitionPoolNeeds,
  encryptPetitionSignature, verifyPetitionSignature,
} from './crypto/petition.js';
