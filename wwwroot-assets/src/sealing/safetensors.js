// Reads a safetensors header (8-byte little-endian length, then JSON) in the browser, before sealing:
// a Cocoon dataset's tensors must share their first (row) dimension, and the portal never sees the file.
export async function safetensorsRows(file) {
  const head = new DataView(await file.slice(0, 8).arrayBuffer());
  if (file.size < 8) throw new Error("This is not a safetensors file (too short).");
  const length = Number(head.getBigUint64(0, true));
  if (length < 2 || length > 100 * 1024 * 1024 || 8 + length > file.size) throw new Error("This is not a safetensors file (bad header length).");
  let header;
  try { header = JSON.parse(await file.slice(8, 8 + length).text()); } catch { throw new Error("This is not a safetensors file (header is not JSON)."); }
  const tensors = Object.entries(header).filter(([name]) => name !== "__metadata__");
  if (tensors.length === 0) throw new Error("The safetensors file holds no tensors.");
  const rows = new Set(tensors.map(([, t]) => Array.isArray(t?.shape) && t.shape.length > 0 ? t.shape[0] : -1));
  if (rows.size !== 1 || rows.has(-1)) throw new Error("Every tensor of a dataset must share its first (row) dimension; these do not.");
  return [...rows][0];
}

function parse(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  const tensors = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: bytes.subarray(8 + length + t.data_offsets[0], 8 + length + t.data_offsets[1]) });
  }
  return tensors;
}

/**
 * Joins safetensors files whose tensors have the same names, dtypes and trailing dimensions into one,
 * stacking each tensor's rows in the order given (a model job's unit outputs, in unit order).
 */
export function concatRows(files) {
  if (files.length === 0) throw new Error("There are no outputs to join.");
  const parsed = files.map(parse);
  const names = [...parsed[0].keys()].sort();
  const joined = names.map((name) => {
    const parts = parsed.map((p, i) => {
      const t = p.get(name);
      if (!t) throw new Error(`Output ${i} has no tensor '${name}'.`);
      if (t.dtype !== parsed[0].get(name).dtype || t.shape.slice(1).join() !== parsed[0].get(name).shape.slice(1).join()) throw new Error(`Output ${i}'s tensor '${name}' does not stack with the others.`);
      return t;
    });
    return { name, dtype: parts[0].dtype, shape: [parts.reduce((n, t) => n + t.shape[0], 0), ...parts[0].shape.slice(1)], parts };
  });
  const header = {};
  let offset = 0;
  for (const t of joined) {
    const size = t.parts.reduce((n, p) => n + p.data.length, 0);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const t of joined) for (const p of t.parts) { out.set(p.data, at); at += p.data.length; }
  return out;
}
