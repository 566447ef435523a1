/**
 * ballot-worker.js — a module Web Worker around crypto/client.js (BallotClient), so that the
 * exponentiations never block the voting page:
 *
 *   new Worker(new URL('./ballot-worker.js', import.meta.url), {type: 'module'})
 *
 * Requests (each with a numeric `id`; replies carry the same id):
 *   {id, type: 'init', election}        → {id, type: 'done', result: {fingerprint}}
 *   {id, type: 'precompute', ballots?}  → {id, type: 'progress', progress: {stage: 'precompute', done, total}} ...
 *                                         {id, type: 'done', result: {encryptions, units}}
 *   {id, type: 'encrypt', choices, tokenId}
 *                                       → {id, type: 'progress', progress: {stage: 'encrypt', done, total}} ...
 *                                         {id, type: 'done', result: {ballot, secrets}}
 *   {id, type: 'audit', ballot, secrets} → {id, type: 'done', result: {chosen}}
 *   {id, type: 'stop'}                  → stops precomputation; {id, type: 'done'}
 * Failures answer {id, type: 'error', name, message}.  Precomputation pauses while a
 * ballot is being encrypted; pool entries are never reused.  `secrets` (plaintexts and
 * randomness) are returned only so that the page can offer a Benaloh audit: a ballot
 * whose secrets were shown must never be cast.
 */

import { BallotClient } from './crypto/client.js';
import { createRpcHandler, serveInWorker } from './crypto/rpc.js';

/** A message handler; `post(message)` sends replies (self.postMessage in a worker). */
export function createWorkerHandler(post) {
  let client = null;
  const requireClient = () => {
    if (!client) throw new Error('worker not initialised: send {type: "init", election} first');
    return client;
  };
  return createRpcHandler(post, {
    async init(message) {
      client = new BallotClient(message.election);
      return { fingerprint: await client.ready() };
    },
    precompute: (message, progress) => requireClient().precompute({ ballots: message.ballots, onProgress: progress }),
    encrypt: (message, progress) => requireClient().encrypt(message.choices, message.tokenId, progress),
    audit: (message) => ({ chosen: requireClient().audit(message.ballot, message.secrets) }),
    stop() {
      if (client) client.stopPrecompute();
      return null;
    },
  });
}

// Install only inside a dedicated worker (not when imported by tests in Node).
serveInWorker(createWorkerHandler((msg) => self.postMessage(msg)));
