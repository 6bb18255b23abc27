// Web Worker: seals a File with the sealed-envelope code and uploads only ciphertext, in parts, to
// the resumable upload API. A dropped connection goes on from the portal's offset; a reload goes on
// too when the same file is chosen again: the sealing state (header, non-extractable payload key)
// waits in IndexedDB, and chunks sealed again from it are the same bytes.
import { beginSealing, sealChunk, chunkCount, DEFAULT_CHUNK_SIZE } from "./sealing/envelope.js";
import { sha256 } from "@noble/hashes/sha2.js";

const hex = (s) => Uint8Array.from(s.match(/../g).map((b) => parseInt(b, 16)));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const TAG = 16;

function pending(mode, action) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("cocoon-uploads", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("uploads");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction("uploads", mode);
      const request = action(tx.objectStore("uploads"));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    };
  });
}

async function problem(response) {
  try { const p = await response.json(); return p.detail ?? p.title ?? `HTTP ${response.status}`; } catch { return `HTTP ${response.status}`; }
}

async function putPart(upload, offset, part) {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`/api/uploads/${upload}?offset=${offset}`, { method: "PUT", body: part, headers: { "Content-Type": "application/octet-stream" } });
      if (response.ok) return;
      if (response.status === 409) {
        const body = await response.json();
        if (typeof body.offset === "number" && body.offset > offset && body.offset <= offset + part.length) {
          // The portal kept part of an interrupted request: send the rest of this part.
          return putPart(upload, body.offset, part.subarray(body.offset - offset));
        }
      }
      if (response.status < 500 || attempt >= 5) throw new Error(await problem(response));
    } catch (error) {
      if (attempt >= 5 || !(error instanceof TypeError)) throw error;
      const status = await fetch(`/api/uploads/${upload}`).then((r) => r.ok ? r.json() : null).catch(() => null);
      if (status && status.received > offset && status.received <= offset + part.length) {
        return putPart(upload, status.received, part.subarray(status.received - offset));
      }
    }
    await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
  }
}

/** The saved state of an earlier, unfinished upload of this file, if the portal still has it. */
async function resumable(id) {
  const saved = await pending("readonly", (s) => s.get(id));
  if (!saved) return null;
  const status = await fetch(`/api/uploads/${saved.uploadId}`).then((r) => r.ok ? r.json() : null).catch(() => null);
  if (!status || status.completed) {
    await pending("readwrite", (s) => s.delete(id));
    return null;
  }
  return { ...saved, received: status.received };
}

self.onmessage = async ({ data }) => {
  const { file, recipients, purpose, partBytes = 4 * 1024 * 1024 } = data;
  const id = `${purpose}:${file.name}:${file.size}:${file.lastModified}`;
  try {
    let saved = await resumable(id);
    if (!saved) {
      const state = await beginSealing(recipients.map(hex), purpose, crypto.getRandomValues(new Uint8Array(16)), DEFAULT_CHUNK_SIZE);
      const total = state.header.length + file.size + chunkCount(file.size, state.chunkSize) * TAG;
      const created = await fetch("/api/uploads", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ length: total }) });
      if (!created.ok) throw new Error(await problem(created));
      saved = { ...state, uploadId: (await created.json()).id, total, received: 0 };
      const { received, ...keep } = saved;
      await pending("readwrite", (s) => s.put(keep, id));
    }

    const { uploadId, total, header, chunkSize } = saved;
    const hash = sha256.create();
    const started = performance.now();
    const startedAt = saved.received;
    let sent = 0;            // bytes of ciphertext hashed so far (the position in the sealed file)
    let pieces = [];
    let pieceBytes = 0;
    const flush = async () => {
      const part = new Uint8Array(pieceBytes);
      let o = 0;
      for (const p of pieces) { part.set(p, o); o += p.length; }
      await putPart(uploadId, sent - pieceBytes, part);
      pieces = [];
      pieceBytes = 0;
      self.postMessage({ type: "progress", sent, total, bytesPerSecond: (sent - startedAt) / ((performance.now() - started) / 1000) });
    };
    // Bytes the portal already has are sealed again only to be hashed; the rest is sent.
    const emit = async (bytes) => {
      hash.update(bytes);
      const skip = Math.max(0, Math.min(bytes.length, saved.received - sent));
      sent += bytes.length;
      if (skip < bytes.length) {
        const rest = bytes.subarray(skip);
        pieces.push(rest);
        pieceBytes += rest.length;
        if (pieceBytes >= partBytes) await flush();
      }
    };
    await emit(header);
    const count = chunkCount(file.size, chunkSize);
    for (let index = 0; index < count; index++) await emit(await sealChunk(saved, file, index));
    if (pieceBytes > 0) await flush();

    const completed = await fetch(`/api/uploads/${uploadId}/complete`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sha256: toHex(hash.digest()) }) });
    if (!completed.ok) throw new Error(await problem(completed));
    await pending("readwrite", (s) => s.delete(id));
    self.postMessage({ type: "done", blob: await completed.json(), resumedAt: startedAt });
  } catch (error) {
    self.postMessage({ type: "error", message: String(error?.message ?? error) });
  }
};
