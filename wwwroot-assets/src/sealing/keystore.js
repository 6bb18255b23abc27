// The developer's key pair in IndexedDB. The private key is stored as a non-extractable CryptoKey:
// scripts in this origin can use it, but nobody can read its bytes out of the browser.
import { encryptBackup, decryptBackup } from "./backup.js";

const subtle = globalThis.crypto.subtle;
const DB = "cocoon-keys";
const STORE = "keys";
const ID = "developer";

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = action(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
  });
}

/** The stored pair ({ privateKey, publicKey, publicRaw }) or null. */
export const loadDeveloperKey = () => run("readonly", (s) => s.get(ID)).then((v) => v ?? null);

async function store(pkcs8, publicRaw) {
  const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  const publicKey = await subtle.importKey("raw", publicRaw, { name: "ECDH", namedCurve: "P-256" }, true, []);
  pkcs8.fill(0);
  const entry = { privateKey, publicKey, publicRaw };
  await run("readwrite", (s) => s.put(entry, ID));
  return entry;
}

/** Makes the pair, returns its encrypted backup (the one moment the private key is extractable). */
export async function createDeveloperKey(passphrase) {
  const pair = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey));
  const backup = await encryptBackup(pkcs8, passphrase);
  const entry = await store(pkcs8, new Uint8Array(await subtle.exportKey("raw", pair.publicKey)));
  return { entry, backup };
}

/** Restores the pair from a backup file's text in another browser. */
export async function importDeveloperKey(backupText, passphrase) {
  const pkcs8 = await decryptBackup(backupText, passphrase);
  const extractable = await subtle.importKey("pkcs8", pkcs8, { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const jwk = await subtle.exportKey("jwk", extractable);
  const publicRaw = new Uint8Array([4, ...Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    ...Uint8Array.from(atob(jwk.y.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))]);
  return store(pkcs8, publicRaw);
}
