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
