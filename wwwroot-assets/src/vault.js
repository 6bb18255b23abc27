// What the Models & datasets page calls through JS interop (import("./dist/vault.js")): the
// developer's key (IndexedDB, backup under a passphrase) and sealed uploads run in a Web Worker.
import { loadDeveloperKey, createDeveloperKey, importDeveloperKey } from "./sealing/keystore.js";
import { safetensorsRows, concatRows } from "./sealing/safetensors.js";
import { onnxOutputElementsPerRow } from "./sealing/onnx-outputs.js";
import { readHeader, unwrapFileKey, openSealed } from "./sealing/envelope.js";
import { wrapGrant } from "./sealing/grants.js";

// For the browser benchmark (bench/Cocoon.Benchmarks browser-seal), which times sealing in a real page.
export { sealChunks } from "./sealing/envelope.js";

const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const fromHex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toBase64 = (b) => btoa(String.fromCharCode(...b));

async function requireKey() {
  const entry = await loadDeveloperKey();
  if (!entry) throw new Error("This browser holds no encryption key: create one, or import your backup, on the Models & datasets page.");
  return entry;
}

async function sealedHeader(blobId) {
  const response = await fetch(`/api/blobs/${blobId}`, { headers: { Range: "bytes=0-8191" } });
  if (!response.ok) throw new Error(`Could not read blob ${blobId} (HTTP ${response.status}).`);
  return readHeader(new Uint8Array(await response.arrayBuffer()));
}

function problemMessage(problem, status) {
  const errors = Object.values(problem?.errors ?? {}).flat();
  return errors.length ? errors.join(" ") : (problem?.detail ?? `The portal answered HTTP ${status}.`);
}

/**
 * Submits a model job: unwraps the model's and the dataset's file keys with this browser's key, wraps
 * them to the enclave key of each agent the developer allowed, and sends only those grants.
 * job = { name, modelId, modelBlobId, datasetId, datasetBlobId, rowsPerUnit, attestedOnly, budget (nanotons), agents: [{ id, enclaveKey (hex) }] }.
 * Returns { ok, jobId } or { ok: false, message }.
 */
export async function submitModelJob(job) {
  try {
    const entry = await requireKey();
    if (!job.agents?.length) throw new Error("Allow at least one agent to run the job.");
    const [model, dataset] = await Promise.all([sealedHeader(job.modelBlobId), sealedHeader(job.datasetBlobId)]);
    const modelKey = await unwrapFileKey(model, entry);
    const datasetKey = await unwrapFileKey(dataset, entry);
    const grants = [];
    for (const agent of job.agents) {
      const enclaveKey = fromHex(agent.enclaveKey);
      grants.push({
        agentId: agent.id,
        enclaveKey: toBase64(enclaveKey),
        modelGrant: toBase64(await wrapGrant(modelKey, model, enclaveKey, entry.publicRaw)),
        datasetGrant: toBase64(await wrapGrant(datasetKey, dataset, enclaveKey, entry.publicRaw)),
      });
    }
    modelKey.fill(0);
    datasetKey.fill(0);
    const response = await fetch("/api/model-jobs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: job.name, modelId: job.modelId, datasetId: job.datasetId, rowsPerUnit: job.rowsPerUnit, attestedOnly: job.attestedOnly, redundancy: job.redundancy, spotCheckPercent: job.spotCheckPercent, budget: job.budget, outputKey: toBase64(entry.publicRaw), grants }),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(problemMessage(body, response.status));
    return { ok: true, jobId: body.id };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}

/**
 * Fetches every unit's sealed output of a model job, opens each with this browser's key, joins their
 * rows into one safetensors file and offers it as a download. Nothing decrypted leaves the browser.
 * Returns { ok, units, bytes } or { ok: false, message }.
 */
export async function downloadOutputs(jobId, fileName) {
  try {
    const entry = await requireKey();
    const response = await fetch(`/api/model-jobs/${jobId}/outputs`);
    if (!response.ok) throw new Error(problemMessage(await response.json().catch(() => null), response.status));
    const outputs = await response.json();
    if (outputs.length === 0) throw new Error("No unit has finished yet.");
    const files = [];
    for (const output of outputs) {
      const blob = await fetch(`/api/blobs/${output.blobId}`);
      if (!blob.ok) throw new Error(`Could not fetch the output of unit ${output.unitIndex} (HTTP ${blob.status}).`);
      files.push(await openSealed(new Uint8Array(await blob.arrayBuffer()), entry));
    }
    const joined = concatRows(files);
    const url = URL.createObjectURL(new Blob([joined], { type: "application/octet-stream" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: fileName });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return { ok: true, units: outputs.length, bytes: joined.length };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}

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
 * interrupted goes on where the portal has it. Returns { ok, blob, rows, outputElementsPerRow, resumedAt } or
 * { ok: false, message }. A dataset's rows and a model's output elements per row are read here, before sealing.
 */
export async function sealAndUpload(inputId, purpose, dotnet) {
  try {
    const file = document.getElementById(inputId)?.files?.[0];
    if (!file) throw new Error("Choose a file first.");
    const entry = await loadDeveloperKey();
    if (!entry) throw new Error("Create or import your key first: files are sealed to it.");
    const rows = purpose === "dataset" ? await safetensorsRows(file) : null;
    const outputElementsPerRow = purpose === "model" ? await onnxOutputElementsPerRow(file) : null;
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
    return { ok: true, blob: result.blob, rows, outputElementsPerRow, resumedAt: result.resumedAt };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}
