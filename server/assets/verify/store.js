// What the page keeps in the browser (IndexedDB): the last verified bundle, the newest signed
// time seen, the signed-in session, the device id, and the outbox of records not yet uploaded.

const DB = 'permitseal';
let opened;

function open() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore('kv');
        req.result.createObjectStore('outbox', { keyPath: 'id' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return opened;
}

async function run(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const req = fn(tx.objectStore(store));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const get = (key) => run('kv', 'readonly', (s) => s.get(key));
export const put = (key, value) => run('kv', 'readwrite', (s) => s.put(value, key));
export const remove = (key) => run('kv', 'readwrite', (s) => s.delete(key));

/** Adds a record to the outbox; a record with the same id is kept as it was. */
export const enqueue = (record) => run('outbox', 'readwrite', (s) => s.add(record)).catch((e) => {
  if (e && e.name === 'ConstraintError') return undefined;
  throw e;
});
export const queued = () => run('outbox', 'readonly', (s) => s.getAll());
export const dequeue = (ids) => run('outbox', 'readwrite', (s) => { ids.forEach((id) => s.delete(id)); });
export const mark = (record) => run('outbox', 'readwrite', (s) => s.put(record));
