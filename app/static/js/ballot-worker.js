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

/** A message handler; `post(message)` sends replies (self.postMessage in a worker). */
export function createWorkerHandler(post) {
  let client = null;
  const requireClient = () => {
    if (!client) throw new Error('worker not initialised: send {type: "init", election} first');
    return client;
  };
  return async function handle(message) {
    const { id, type } = message || {};
    try {
      let result;
      if (type === 'init') {
        client = new BallotClient(message.election);
        result = { fingerprint: await client.ready() };
      } else if (type === 'precompute') {
        result = await requireClient().precompute({
          ballots: message.ballots,
          onProgress: (progress) => post({ id, type: 'progress', progress }),
        });
      } else if (type === 'encrypt') {
        result = await requireClient().encrypt(message.choices, message.tokenId,
          (progress) => post({ id, type: 'progress', progress }));
      } else if (type === 'audit') {
        result = { chosen: requireClient().audit(message.ballot, message.secrets) };
      } else if (type === 'stop') {
        if (client) client.stopPrecompute();
        result = null;
      } else {
        throw new Error(`unknown request type ${JSON.stringify(type)}`);
      }
      post({ id, type: 'done', result });
    } catch (err) {
      post({ id, type: 'error', name: err && err.name, message: String(err && err.message) });
    }
  };
}

// Install only inside a dedicated worker (not when imported by tests in Node).
if (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined'
    && self instanceof WorkerGlobalScope) {
  const handle = createWorkerHandler((msg) => self.postMessage(msg));
  self.onmessage = (event) => { handle(event.data); };
}
