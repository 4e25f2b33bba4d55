// chunkstore.js - recordings kept in IndexedDB while they are being made
// and uploaded: one row per recording (title, type, duration so far, tus
// upload URL, finished) and its MediaRecorder chunks in order. A crash or a
// reload loses nothing already stored; a recording is deleted only once the
// server has every byte.
const DB = 'hubcast-recordings';
let dbp = null;

function open() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => {
        const db = r.result;
        db.createObjectStore('recordings', { keyPath: 'id' });
        db.createObjectStore('chunks', { keyPath: ['rec', 'seq'] });
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => { dbp = null; reject(r.error); };
    });
  }
  return dbp;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

function req(r) {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
}

export async function putRecording(meta) {
  const db = await open();
  const tx = db.transaction('recordings', 'readwrite');
  tx.objectStore('recordings').put(meta);
  await done(tx);
}

export async function getRecording(id) {
  const db = await open();
  return req(db.transaction('recordings').objectStore('recordings').get(id));
}

export async function listRecordings() {
  const db = await open();
  return req(db.transaction('recordings').objectStore('recordings').getAll());
}

// Store a chunk and the recording's new totals in one transaction.
export async function appendChunk(meta, seq, blob, start) {
  const db = await open();
  const tx = db.transaction(['recordings', 'chunks'], 'readwrite');
  tx.objectStore('chunks').put({ rec: meta.id, seq, start, size: blob.size, blob });
  tx.objectStore('recordings').put(meta);
  await done(tx);
}

export async function getChunks(id) {
  const db = await open();
  const range = IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]);
  return req(db.transaction('chunks').objectStore('chunks').getAll(range));
}

export async function deleteRecording(id) {
  const db = await open();
  const tx = db.transaction(['recordings', 'chunks'], 'readwrite');
  tx.objectStore('recordings').delete(id);
  tx.objectStore('chunks').delete(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]));
  await done(tx);
}
