// HPKE (RFC 9180) base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-GCM, single-shot: WebCrypto
// only, so it runs in any browser, in a Web Worker and in node. Mirrors Cocoon.Shared/Sealing/Hpke.cs.
const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();

export const KEM_P256 = 0x0010;
export const KDF_SHA256 = 0x0001;
export const AES_128_GCM = 0x0001;
export const AES_256_GCM = 0x0002;

const VERSION = encoder.encode("HPKE-v1");

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}

const i2osp = (value, length) => {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) { out[i] = value & 0xff; value = Math.floor(value / 256); }
  return out;
};

async function hmac(key, data) {
  const k = await subtle.importKey("raw", key.length ? key : new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", k, data));
}

export const hkdfExtract = (salt, ikm) => hmac(salt, ikm);

export async function hkdfExpand(prk, info, length) {
  let t = new Uint8Array(0);
  const out = [];
  for (let i = 1; out.reduce((n, p) => n + p.length, 0) < length; i++) {
    t = await hmac(prk, concat(t, info, new Uint8Array([i])));
    out.push(t);
  }
  return concat(...out).slice(0, length);
}

const labeledExtract = (suite, salt, label, ikm) => hkdfExtract(salt, concat(VERSION, suite, encoder.encode(label), ikm));
const labeledExpand = (suite, prk, label, info, length) =>
  hkdfExpand(prk, concat(i2osp(length, 2), VERSION, suite, encoder.encode(label), info), length);

async function extractAndExpand(dh, kemContext) {
  const suite = concat(encoder.encode("KEM"), i2osp(KEM_P256, 2));
  const prk = await labeledExtract(suite, new Uint8Array(0), "eae_prk", dh);
  return labeledExpand(suite, prk, "shared_secret", kemContext, 32);
}

async function keySchedule(shared, info, aeadId) {
  const nk = aeadId === AES_128_GCM ? 16 : aeadId === AES_256_GCM ? 32 : null;
  if (!nk) throw new Error(`Unsupported AEAD ${aeadId}.`);
  const suite = concat(encoder.encode("HPKE"), i2osp(KEM_P256, 2), i2osp(KDF_SHA256, 2), i2osp(aeadId, 2));
  const empty = new Uint8Array(0);
  const context = concat(new Uint8Array([0]), await labeledExtract(suite, empty, "psk_id_hash", empty), await labeledExtract(suite, empty, "info_hash", info));
  const secret = await labeledExtract(suite, shared, "secret", empty);
  return { key: await labeledExpand(suite, secret, "key", context, nk), nonce: await labeledExpand(suite, secret, "base_nonce", context, 12) };
}

export async function importPublicKey(raw) {
  try {
    return await subtle.importKey("raw", raw, { name: "ECDH", namedCurve: "P-256" }, true, []);
  } catch {
    throw new SealedDataError("A P-256 public key is 65 bytes, uncompressed, on the curve.");
  }
}

export async function publicKeyBytes(key) {
  return new Uint8Array(await subtle.exportKey("raw", key.publicKey ?? key));
}

async function dh(privateKey, publicKey) {
  return new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256));
}

/** Wraps `plaintext` to the recipient's 65-byte public key; `ephemeral` is for test vectors only. */
export async function seal(recipientPublicKey, info, aad, plaintext, aeadId = AES_256_GCM, ephemeral = null) {
  const pair = ephemeral ?? await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const enc = await publicKeyBytes(pair);
  const shared = await extractAndExpand(await dh(pair.privateKey, await importPublicKey(recipientPublicKey)), concat(enc, recipientPublicKey));
  const { key, nonce } = await keySchedule(shared, info, aeadId);
  const aes = await subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  return { enc, ciphertext: new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad }, aes, plaintext)) };
}

/** Unwraps with the recipient's key pair ({ privateKey, publicKey }); throws SealedDataError when anything does not match. */
export async function open(recipient, enc, info, aad, ciphertext, aeadId = AES_256_GCM) {
  if (enc.length !== 65 || ciphertext.length < 16) throw new SealedDataError("The wrapped key is malformed.");
  const shared = await extractAndExpand(await dh(recipient.privateKey, await importPublicKey(enc)), concat(enc, await publicKeyBytes(recipient)));
  const { key, nonce } = await keySchedule(shared, info, aeadId);
  const aes = await subtle.importKey("raw", key, "AES-GCM", false, ["decrypt"]);
  try {
    return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: nonce, additionalData: aad }, aes, ciphertext));
  } catch {
    throw new SealedDataError("The wrapped key does not open with this private key (wrong recipient, or altered).");
  }
}

export class SealedDataError extends Error {
  constructor(message) { super(message); this.name = "SealedDataError"; }
}
