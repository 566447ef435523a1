/**
 * crypto/client.js — §6.6 The page API: BallotClient (pool + ballot encryption on the current thread) and
 * WorkerBallotClient (the same through the module worker ballot-worker.js).
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { auditBallot, encryptBallot, poolNeeds, verifyBallot } from './ballot.js';
import { systemRng } from './bigint.js';
import { electionFingerprint, normalizeManifest } from './election.js';
import { bytesToHex } from './encoding.js';
import { CryptoError, InvalidEncoding } from './errors.js';
import { PaillierPublicKey } from './paillier.js';
import { PrecomputePool } from './precompute.js';
import { RpcClient } from './rpc.js';

/**
 * What the voting page uses.  `election` is the public election record:
 *   {manifest, election_key (threshold key JSON or {n}), issuer_key {n, e},
 *    board_key (hex, 32 bytes), roll? (the roll commitment, §2.7), fingerprint? (hex,
 *    checked if present)}
 *
 *   const client = new BallotClient(election);
 *   await client.ready();                 // fingerprint computed and checked
 *   client.precompute({onProgress});      // background pool (not awaited)
 *   const {ballot, secrets} = await client.encrypt(choices, tokenIdHex, onProgress);
 */
export class BallotClient {
  constructor(election, { rng = systemRng, ballots = 2 } = {}) {
    this.election = election;
    this.manifest = normalizeManifest(election.manifest);
    this.pk = PaillierPublicKey.fromJson(election.election_key);
    this.rng = rng;
    this.pool = new PrecomputePool(this.pk, { rng });
    this.ballots = ballots;
    this.fingerprint = null;
    this._busy = null;
    this._stop = false;
  }

  /** Compute eq. F1 and compare it with election.fingerprint when that is given. */
  async ready() {
    if (!this.fingerprint) {
      const fp = await electionFingerprint(this.manifest, this.election.election_key,
        this.election.issuer_key, this.election.board_key, this.election.roll);
      if (this.election.fingerprint !== undefined && this.election.fingerprint !== bytesToHex(fp)) {
        throw new InvalidEncoding('election fingerprint does not match the published one');
      }
      this.fingerprint = fp;
    }
    return bytesToHex(this.fingerprint);
  }

  /** Pool entries one ballot needs. */
  needs() {
    return poolNeeds(this.manifest);
  }

  /**
   * Fill the pool for `ballots` ballots (default 2: one to audit, one to cast),
   * yielding between exponentiations; pauses while encrypt() runs.
   */
  async precompute({ onProgress, ballots = this.ballots } = {}) {
    const need = this.needs();
    this._stop = false;
    return this.pool.fill(
      { encryptions: need.encryptions * ballots, units: need.units * ballots },
      { onProgress, shouldStop: () => this._stop, waitWhile: () => this._busy },
    );
  }

  stopPrecompute() {
    this._stop = true;
  }

  /** Encrypt {questionId: [optionId, ...]} for the credential's token id (hex or bytes). */
  async encrypt(choices, tokenIdValue, onProgress = undefined) {
    await this.ready();
    let release;
    const previous = this._busy;
    this._busy = new Promise((resolve) => { release = resolve; });
    try {
      if (previous) await previous;
      return await encryptBallot(this.pk, this.manifest, this.fingerprint, tokenIdValue, choices,
        { rng: this.rng, pool: this.pool, onProgress });
    } finally {
      release();
      this._busy = null;
    }
  }

  /** Benaloh audit of a ballot and its secrets (returns the chosen options). */
  audit(ballot, secrets) {
    return auditBallot(this.pk, this.manifest, ballot, secrets);
  }

  /** Verify a ballot's proofs on this device (slow: two full exponentiations a branch). */
  async verify(ballot, tokenIdValue) {
    await this.ready();
    return verifyBallot(this.pk, this.manifest, this.fingerprint, ballot, tokenIdValue);
  }
}

/**
 * Main-thread wrapper around ballot-worker.js with promises:
 *   const w = new WorkerBallotClient(new URL('./ballot-worker.js', import.meta.url), election);
 *   await w.ready(); w.precompute(p => ...); const {ballot, secrets} = await w.encrypt(choices, tokenId, p => ...);
 */
export class WorkerBallotClient {
  constructor(workerUrl, election) {
    this.worker = new Worker(workerUrl, { type: 'module' });
    this.rpc = new RpcClient((msg) => this.worker.postMessage(msg), { ErrorClass: CryptoError });
    this.worker.onmessage = (event) => this.rpc.receive(event.data);
    this._init = this._call('init', { election });
  }

  _call(type, payload, onProgress = undefined) {
    return this.rpc.call(type, payload, onProgress);
  }

  async ready() {
    return this._init;
  }

  async precompute(onProgress = undefined) {
    await this._init;
    return this._call('precompute', {}, onProgress);
  }

  async encrypt(choices, tokenIdHex, onProgress = undefined) {
    await this._init;
    return this._call('encrypt', { choices, tokenId: tokenIdHex }, onProgress);
  }

  terminate() {
    this.worker.terminate();
  }
}
