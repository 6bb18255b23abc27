// The developer key's backup: the PKCS#8 private key encrypted under a passphrase
// (PBKDF2-SHA256, 600,000 iterations → AES-256-GCM). The only way the key ever leaves the browser.
const subtle = globalThis.crypto.subtle;
export const ITERATIONS = 600_000;
const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function passphraseKey(passphrase, salt, iterations, usage) {
  const material = await subtle.importKey("raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  return subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, { name: "AES-GCM", length: 256 }, false, [usage]);
}

export async function encryptBackup(pkcs8, passphrase) {
  if (!passphrase || passphrase.length < 12) throw new Error("Choose a passphrase of at least 12 characters.");
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await passphraseKey(passphrase, salt, ITERATIONS, "encrypt");
  const ct = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv }, key, pkcs8));
  return JSON.stringify({ format: "cocoon-developer-key", version: 1, kdf: "PBKDF2-SHA256", iterations: ITERATIONS, salt: b64(salt), iv: b64(iv), key: b64(ct) });
}

export async function decryptBackup(text, passphrase) {
  let backup;
  try { backup = JSON.parse(text); } catch { throw new Error("That file is not a Cocoon key backup."); }
  if (backup?.format !== "cocoon-developer-key" || backup.version !== 1 || backup.iterations < ITERATIONS) throw new Error("That file is not a Cocoon key backup.");
  const key = await passphraseKey(passphrase, unb64(backup.salt), backup.iterations, "decrypt");
  try {
    return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: unb64(backup.iv) }, key, unb64(backup.key)));
  } catch {
    throw new Error("Wrong passphrase, or the backup file was changed.");
  }
}
