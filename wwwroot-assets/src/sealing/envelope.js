// The sealed envelope v1 (docs/sealed-envelope.md), written once more in JavaScript with WebCrypto
// only. Mirrors Cocoon.Shared/Sealing: header (magic, version, chunk size, blob id, purpose, HPKE
// stanzas, HMAC) and chunked AES-256-GCM with nonce = index ‖ last flag and the header MAC as AAD.
import { concat, seal as hpkeSeal, open as hpkeOpen, publicKeyBytes, hkdfExtract, hkdfExpand, SealedDataError } from "./hpke.js";

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const MAGIC = encoder.encode("CCSE");
const VERSION = 1;
const STANZA = 8 + 65 + 48;
const MAC = 32;
const TAG = 16;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

const u32 = (n) => new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
const readU32 = (b, o) => ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
const sha256 = async (data) => new Uint8Array(await subtle.digest("SHA-256", data));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export const wrapInfo = (blobId, purpose) => concat(encoder.encode("cocoon-sealed/v1"), new Uint8Array([0]), blobId, encoder.encode(purpose));
export const keyId = async (publicKey) => (await sha256(publicKey)).slice(0, 8);

async function deriveKey(fileKey, blobId, label) {
  return hkdfExpand(await hkdfExtract(blobId, fileKey), encoder.encode(label), 32);
}

function nonce(index, last) {
  const n = new Uint8Array(12);
  let i = index;
  for (let p = 10; p >= 3; p--) { n[p] = i % 256; i = Math.floor(i / 256); }
  n[11] = last ? 1 : 0;
  return n;
}

async function payloadKey(fileKey, blobId, usage) {
  return subtle.importKey("raw", await deriveKey(fileKey, blobId, "cocoon-sealed/v1 payload"), "AES-GCM", false, [usage]);
}

/** Wraps a file key to one more recipient (a key grant). */
export async function wrap(fileKey, recipientPublicKey, blobId, purpose) {
  const { enc, ciphertext } = await hpkeSeal(recipientPublicKey, wrapInfo(blobId, purpose), new Uint8Array(0), fileKey);
  return { keyId: await keyId(recipientPublicKey), enc, wrappedKey: ciphertext };
}

/**
 * Starts a sealed file: a fresh file key wrapped to each recipient, the header with its MAC, and the
 * payload key as a non-extractable CryptoKey. The returned state can be kept in IndexedDB, so an
 * upload can go on after a reload: chunks sealed again from it are byte-for-byte the same.
 */
export async function beginSealing(recipients, purpose, blobId, chunkSize = DEFAULT_CHUNK_SIZE) {
  if (!/^[a-z0-9-]{1,64}$/.test(purpose)) throw new Error("A purpose is 1 to 64 characters of a-z, 0-9 and '-'.");
  if (recipients.length < 1 || recipients.length > 32) throw new Error("A sealed file has 1 to 32 recipients.");
  const fileKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const stanzas = [];
  for (const r of recipients) {
    const s = await wrap(fileKey, r, blobId, purpose);
    stanzas.push(s.keyId, s.enc, s.wrappedKey);
  }
  const purposeBytes = encoder.encode(purpose);
  const body = concat(MAGIC, new Uint8Array([VERSION]), u32(chunkSize), blobId, new Uint8Array([purposeBytes.length]), purposeBytes,
    new Uint8Array([recipients.length]), ...stanzas);
  const macKey = await subtle.importKey("raw", await deriveKey(fileKey, blobId, "cocoon-sealed/v1 header"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await subtle.sign("HMAC", macKey, body));
  const key = await payloadKey(fileKey, blobId, "encrypt");
  fileKey.fill(0);
  return { header: concat(body, mac), mac, key, chunkSize };
}

/** How many chunks a plaintext of `size` bytes makes. */
export const chunkCount = (size, chunkSize) => Math.max(1, Math.ceil(size / chunkSize));

/** Seals chunk `index` of `source` (a Blob or Uint8Array) with the state from beginSealing. */
export async function sealChunk(state, source, index) {
  const size = source.size ?? source.length;
  const count = chunkCount(size, state.chunkSize);
  const piece = source.slice(index * state.chunkSize, Math.min(size, (index + 1) * state.chunkSize));
  const plain = piece instanceof Uint8Array ? piece : new Uint8Array(await piece.arrayBuffer());
  return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce(index, index === count - 1), additionalData: state.mac }, state.key, plain));
}

/**
 * Seals `source` (a Blob or Uint8Array) to the recipients' 65-byte public keys. Yields the header, then
 * each sealed chunk, so a caller can upload pieces as they come; memory stays at one chunk.
 */
export async function* sealChunks(source, recipients, purpose, blobId, chunkSize = DEFAULT_CHUNK_SIZE) {
  const state = await beginSealing(recipients, purpose, blobId, chunkSize);
  yield state.header;
  const count = chunkCount(source.size ?? source.length, chunkSize);
  for (let index = 0; index < count; index++) yield sealChunk(state, source, index);
}

/** Parses a header from the first bytes of a sealed file. */
export function readHeader(bytes) {
  if (bytes.length < 26 || !equal(bytes.slice(0, 4), MAGIC)) throw new SealedDataError("This is not a Cocoon sealed file (wrong magic).");
  if (bytes[4] !== VERSION) throw new SealedDataError(`Sealed format version ${bytes[4]} is not supported.`);
  const chunkSize = readU32(bytes, 5);
  if (chunkSize < 1024 || chunkSize > 16 * 1024 * 1024) throw new SealedDataError("The sealed file declares an impossible chunk size.");
  const blobId = bytes.slice(9, 25);
  const purposeLength = bytes[25];
  const count = bytes[26 + purposeLength];
  if (!count || count > 32) throw new SealedDataError("The sealed file declares an impossible number of recipients.");
  const length = 27 + purposeLength + count * STANZA + MAC;
  if (bytes.length < length) throw new SealedDataError("The sealed file ends inside its header.");
  const purpose = new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(26, 26 + purposeLength));
  const stanzas = [];
  for (let i = 0; i < count; i++) {
    const o = 27 + purposeLength + i * STANZA;
    stanzas.push({ keyId: bytes.slice(o, o + 8), enc: bytes.slice(o + 8, o + 73), wrappedKey: bytes.slice(o + 73, o + STANZA) });
  }
  return { chunkSize, blobId, purpose, stanzas, bytes: bytes.slice(0, length), mac: bytes.slice(length - MAC, length), length };
}

/** Unwraps the file key with the recipient's key pair and checks the header MAC with it. */
export async function unwrapFileKey(header, recipient) {
  const id = await keyId(await publicKeyBytes(recipient));
  const stanza = header.stanzas.find((s) => equal(s.keyId, id));
  if (!stanza) throw new SealedDataError("This file is not sealed to your key.");
  const fileKey = await hpkeOpen(recipient, stanza.enc, wrapInfo(header.blobId, header.purpose), new Uint8Array(0), stanza.wrappedKey);
  await verifyMac(header, fileKey);
  return fileKey;
}

async function verifyMac(header, fileKey) {
  const macKey = await subtle.importKey("raw", await deriveKey(fileKey, header.blobId, "cocoon-sealed/v1 header"), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  if (!await subtle.verify("HMAC", macKey, header.mac, header.bytes.slice(0, header.length - MAC))) {
    throw new SealedDataError("The sealed file's header was altered.");
  }
}

/** Opens a whole sealed file (Uint8Array or Blob) with the recipient's key pair; returns the plaintext. */
export async function openSealed(sealed, recipient) {
  const size = sealed.size ?? sealed.length;
  const head = sealed.slice(0, Math.min(size, 27 + 255 + 32 * STANZA + MAC));
  const header = readHeader(head instanceof Uint8Array ? head : new Uint8Array(await head.arrayBuffer()));
  const fileKey = await unwrapFileKey(header, recipient);
  const key = await payloadKey(fileKey, header.blobId, "decrypt");
  const payload = size - header.length;
  if (payload < TAG) throw new SealedDataError("The sealed file has no payload.");
  const step = header.chunkSize + TAG;
  const count = Math.ceil(payload / step);
  const parts = [];
  for (let index = 0; index < count; index++) {
    const start = header.length + index * step;
    const piece = sealed.slice(start, Math.min(size, start + step));
    const bytes = piece instanceof Uint8Array ? piece : new Uint8Array(await piece.arrayBuffer());
    if (bytes.length < TAG) throw new SealedDataError(`The sealed file is cut inside chunk ${index}.`);
    try {
      parts.push(new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: nonce(index, index === count - 1), additionalData: header.mac }, key, bytes)));
    } catch {
      throw new SealedDataError(`Chunk ${index} does not authenticate: the data was altered, cut, reordered or belongs to another file.`);
    }
  }
  return concat(...parts);
}
