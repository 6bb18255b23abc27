// Web Worker: seals a File with the sealed-envelope code and uploads only ciphertext, in parts, to
// the resumable upload API; on a dropped connection it asks the portal where the upload is and goes on.
import { sealChunks, DEFAULT_CHUNK_SIZE } from "./sealing/envelope.js";
import { sha256 } from "@noble/hashes/sha2.js";

const hex = (s) => Uint8Array.from(s.match(/../g).map((b) => parseInt(b, 16)));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

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

self.onmessage = async ({ data }) => {
  const { file, recipients, purpose, partBytes = 4 * 1024 * 1024 } = data;
  try {
    const chunk = DEFAULT_CHUNK_SIZE;
    const chunks = Math.max(1, Math.ceil(file.size / chunk));
    const headerLength = 27 + new TextEncoder().encode(purpose).length + 121 * recipients.length + 32;
    const total = headerLength + file.size + chunks * 16;
    const created = await fetch("/api/uploads", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ length: total }) });
    if (!created.ok) throw new Error(await problem(created));
    const upload = (await created.json()).id;
    const hash = sha256.create();
    const blobId = crypto.getRandomValues(new Uint8Array(16));
    const started = performance.now();
    let sent = 0;
    let pending = [];
    let pendingLength = 0;
    const flush = async () => {
      const part = new Uint8Array(pendingLength);
      let o = 0;
      for (const p of pending) { part.set(p, o); o += p.length; }
      await putPart(upload, sent, part);
      sent += part.length;
      pending = [];
      pendingLength = 0;
      self.postMessage({ type: "progress", sent, total, bytesPerSecond: sent / ((performance.now() - started) / 1000) });
    };
    for await (const piece of sealChunks(file, recipients.map(hex), purpose, blobId, chunk)) {
      hash.update(piece);
      pending.push(piece);
      pendingLength += piece.length;
      if (pendingLength >= partBytes) await flush();
    }
    if (pendingLength > 0) await flush();
    const completed = await fetch(`/api/uploads/${upload}/complete`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sha256: toHex(hash.digest()) }) });
    if (!completed.ok) throw new Error(await problem(completed));
    self.postMessage({ type: "done", blob: await completed.json() });
  } catch (error) {
    self.postMessage({ type: "error", message: String(error?.message ?? error) });
  }
};
