// Reads an ONNX model's declared outputs in the browser, before sealing: how many elements one row of
// output holds (the product of every output's dimensions after the first, summed over outputs). The
// portal never sees the model; it uses this number to bound what an agent may upload as a unit's output.
// Returns null when an output's trailing dimensions are symbolic or undeclared (the portal's default
// bound applies). Reads the protobuf directly, skipping initializers by their lengths, so a large model
// costs a few small reads.

const CHUNK = 1 << 16;

class BlobReader {
  constructor(blob) {
    this.blob = blob;
    this.cache = new Map();
  }

  async byte(pos) {
    const index = Math.floor(pos / CHUNK);
    let chunk = this.cache.get(index);
    if (!chunk) {
      chunk = new Uint8Array(await this.blob.slice(index * CHUNK, (index + 1) * CHUNK).arrayBuffer());
      if (this.cache.size > 64) this.cache.clear();
      this.cache.set(index, chunk);
    }
    const b = chunk[pos - index * CHUNK];
    if (b === undefined) throw new Error("This is not an ONNX model (it ends inside a field).");
    return b;
  }

  async bytes(start, end) {
    return new Uint8Array(await this.blob.slice(start, end).arrayBuffer());
  }
}

const notOnnx = () => new Error("This is not an ONNX model (its protobuf does not parse).");

/** One field at pos, reading bytes with read(at) (a value or a promise): { field, wire, value (varints), start/end (length-delimited), next }. */
async function readField(read, pos, limit) {
  const varint = async (at) => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= limit) throw notOnnx();
      const b = await read(at++);
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return [value, at];
    }
    throw notOnnx();
  };
  const [key, afterKey] = await varint(pos);
  const field = Number(key >> 3n);
  const wire = Number(key & 7n);
  if (field === 0) throw notOnnx();
  switch (wire) {
    case 0: { const [value, next] = await varint(afterKey); return { field, wire, value, next }; }
    case 1: if (afterKey + 8 > limit) throw notOnnx(); return { field, wire, next: afterKey + 8 };
    case 5: if (afterKey + 4 > limit) throw notOnnx(); return { field, wire, next: afterKey + 4 };
    case 2: {
      const [length, start] = await varint(afterKey);
      const end = start + Number(length);
      if (length > BigInt(limit) || end > limit) throw notOnnx();
      return { field, wire, start, end, next: end };
    }
    default: throw notOnnx();
  }
}

/** Every field of the message in bytes[start, end). */
async function fields(bytes, start = 0, end = bytes.length) {
  const out = [];
  for (let pos = start; pos < end;) {
    const f = await readField((at) => bytes[at], pos, end);
    out.push(f);
    pos = f.next;
  }
  return out;
}

/** Elements per row of one ValueInfoProto, or null when its trailing dimensions are not all fixed. */
async function elementsPerRow(valueInfo) {
  // ValueInfoProto.type (2) → TypeProto.tensor_type (1) → Tensor.shape (2) → TensorShapeProto.dim (1)
  const type = (await fields(valueInfo)).find((f) => f.field === 2 && f.wire === 2);
  const tensor = type && (await fields(valueInfo, type.start, type.end)).find((f) => f.field === 1 && f.wire === 2);
  const shape = tensor && (await fields(valueInfo, tensor.start, tensor.end)).find((f) => f.field === 2 && f.wire === 2);
  if (!shape) return null;
  const dims = (await fields(valueInfo, shape.start, shape.end)).filter((f) => f.field === 1 && f.wire === 2);
  let elements = 1n;
  for (const dim of dims.slice(1)) {
    // Dimension.dim_value (1) is fixed; dim_param (2) or nothing is symbolic.
    const value = (await fields(valueInfo, dim.start, dim.end)).find((f) => f.field === 1 && f.wire === 0)?.value;
    if (value === undefined || value <= 0n) return null;
    elements *= value;
  }
  return elements;
}

export async function onnxOutputElementsPerRow(file) {
  const reader = new BlobReader(file);
  const read = (at) => reader.byte(at);
  let graph = null;
  for (let pos = 0; pos < file.size;) {
    const f = await readField(read, pos, file.size);
    if (f.field === 7 && f.wire === 2) graph = f; // ModelProto.graph
    pos = f.next;
  }
  if (!graph) throw new Error("This is not an ONNX model (it has no graph).");

  const outputs = [];
  for (let pos = graph.start; pos < graph.end;) {
    const f = await readField(read, pos, graph.end);
    if (f.field === 12 && f.wire === 2) outputs.push(await reader.bytes(f.start, f.end)); // GraphProto.output
    pos = f.next;
  }
  if (outputs.length === 0) throw new Error("The ONNX model declares no outputs.");

  let total = 0n;
  for (const output of outputs) {
    const elements = await elementsPerRow(output);
    if (elements === null) return null;
    total += elements;
  }
  // The portal takes at most 2^40; beyond that the model states no useful bound.
  return total > 1n << 40n ? null : Number(total);
}
