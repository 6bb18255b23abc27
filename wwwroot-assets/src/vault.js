// What the Models & datasets page calls through JS interop (import("./dist/vault.js")): the
// developer's key (IndexedDB, backup under a passphrase) and sealed uploads run in a Web Worker.
import { loadDeveloperKey, createDeveloperKey, importDeveloperKey } from "./sealing/keystore.js";
import { safetensorsRows } from "./sealing/safetensors.js";

// For the browser benchmark (bench/Cocoon.Benchmarks browser-seal), which times sealing in a real page.
export { sealChunks } from "./sealing/envelope.js";

const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

async function register(publicRaw) {
  const response = await fetch("/api/account/encryption-key", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ publicKey: toHex(publicRaw) }) });
  if (!response.ok) throw new Error(`The portal did not register the key (HTTP ${response.status}).`);
}

/** The public key (hex) of this browser's developer key, or null when it has none. */
export async function developerKey() {
  const entry = await loadDeveloperKey();
  return entry ? toHex(entry.publicRaw) : null;
}

/** Creates the key, registers it, and returns the backup file's text for the page to offer as a download. */
export async function createKey(passphrase) {
  try {
    const { entry, backup } = await createDeveloperKey(passphrase);
    await register(entry.publicRaw);
    return { ok: true, publicKey: toHex(entry.publicRaw), backup };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}

export async function importKey(inputId, passphrase) {
  try {
    const file = document.getElementById(inputId)?.files?.[0];
    if (!file) throw new Error("Choose the backup file first.");
    const entry = await importDeveloperKey(await file.text(), passphrase);
    await register(entry.publicRaw);
    return { ok: true, publicKey: toHex(entry.publicRaw) };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}

export function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Seals the chosen file to this browser's key and uploads the ciphertext; progress goes to
 * dotnet.OnProgress(sent, total, bytesPerSecond). An upload of the same file that a reload or a closed tab
 * interrupted goes on where the portal has it. Returns { ok, blob, rows, resumedAt } or { ok: false, message }.
 */
export async function sealAndUpload(inputId, purpose, dotnet) {
  try {
    const file = document.getElementById(inputId)?.files?.[0];
    if (!file) throw new Error("Choose a file first.");
    const entry = await loadDeveloperKey();
    if (!entry) throw new Error("Create or import your key first: files are sealed to it.");
    const rows = purpose === "dataset" ? await safetensorsRows(file) : null;
    const worker = new Worker(new URL("./seal-worker.js", import.meta.url), { type: "module" });
    const result = await new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (data.type === "progress") dotnet.invokeMethodAsync("OnProgress", data.sent, data.total, data.bytesPerSecond);
        else if (data.type === "done") resolve(data);
        else reject(new Error(data.message));
      };
      worker.onerror = (e) => reject(new Error(e.message || "The sealing worker failed."));
      worker.postMessage({ file, recipients: [toHex(entry.publicRaw)], purpose });
    }).finally(() => worker.terminate());
    return { ok: true, blob: result.blob, rows, resumedAt: result.resumedAt };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}
