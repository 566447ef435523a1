/**
 * wallet-store.js — the voter's wallet {credential, tokenId, privateKey} in IndexedDB, shared
 * by the voting booth and the petition signing page (docs/protocol.md §6.5: the Ed25519
 * private key stays a non-extractable CryptoKey, which IndexedDB can keep).
 *
 * walletStore(dbName, keyOf) → {load(id), save(id, wallet), drop(id)}: one object store
 * "wallets" in database `dbName`, keys keyOf(id).  Without IndexedDB (private windows) load
 * answers null and save/drop do nothing: the wallet then lives in memory only.
 */

const STORE = 'wallets';

function openDb(dbName) {
  return new Promise((resolve, reject) => {
    if (!globalThis.indexedDB) { reject(new Error('IndexedDB unavailable')); return; }
    const req = indexedDB.open(dbName, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(dbName, mode, fn) {
  const db = await openDb(dbName);
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req && req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export function walletStore(dbName, keyOf) {
  return {
    async load(id) {
      try { return (await withStore(dbName, 'readonly', (s) => s.get(keyOf(id)))) || null; } catch { return null; }
    },
    async save(id, wallet) {
      try { await withStore(dbName, 'readwrite', (s) => s.put(wallet, keyOf(id))); } catch { /* memory only */ }
    },
    async drop(id) {
      try { await withStore(dbName, 'readwrite', (s) => s.delete(keyOf(id))); } catch { /* none */ }
    },
  };
}
