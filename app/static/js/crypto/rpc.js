/**
 * crypto/rpc.js — §6.6 The worker protocol, both ends: requests {id, type, ...}; replies
 * {id, type: 'progress', progress} …, then {id, type: 'done', result} or
 * {id, type: 'error', name, message}, all carrying the request's id.
 *
 * Used by ballot-worker.js / WorkerBallotClient and by petition-sign.js (its own worker).
 * Part of the browser client (docs/protocol.md §6); not part of saylau-crypto.js's API.
 */

/** True inside a dedicated Web Worker (false in a page and in Node). */
export const IN_WORKER = typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined'
  && self instanceof WorkerGlobalScope;

/**
 * A message handler over `routes` {type: async (message, progress) → result}; `post(message)`
 * sends the replies (self.postMessage in a worker).  An unknown type answers an error.
 */
export function createRpcHandler(post, routes) {
  return async function handle(message) {
    const { id, type } = message || {};
    try {
      const route = typeof type === 'string' && Object.hasOwn(routes, type) ? routes[type] : undefined;
      if (!route) throw new Error(`unknown request type ${JSON.stringify(type)}`);
      const result = await route(message, (progress) => post({ id, type: 'progress', progress }));
      post({ id, type: 'done', result });
    } catch (err) {
      post({ id, type: 'error', name: err && err.name, message: String(err && err.message) });
    }
  };
}

/** Serve `handle` on this worker's messages; does nothing outside a worker. */
export function serveInWorker(handle) {
  if (IN_WORKER) self.onmessage = (event) => { handle(event.data); };
  return IN_WORKER;
}

/**
 * The calling side: `send(message)` posts a request; feed every reply to receive().
 * call() returns a promise of the result (rejected with `ErrorClass(message)` on an error
 * reply) and passes progress replies to `onProgress`.
 */
export class RpcClient {
  constructor(send, { ErrorClass = Error } = {}) {
    this.send = send;
    this.ErrorClass = ErrorClass;
    this.pending = new Map();
    this.nextId = 1;
  }

  receive(msg) {
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    if (msg.type === 'progress') {
      if (entry.onProgress) entry.onProgress(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'error') entry.reject(new this.ErrorClass(msg.message));
    else entry.resolve(msg.result);
  }

  call(type, payload = {}, onProgress = undefined) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.send({ id, type, ...payload });
    });
  }
}
