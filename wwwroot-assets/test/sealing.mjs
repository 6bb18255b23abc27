// Drives the JavaScript sealing code from Cocoon.Web.Tests (cross-implementation checks):
//   node test/sealing.mjs vector                             RFC 9180 A.3.1 in JS; prints "ok"
//   node test/sealing.mjs seal IN OUT PURPOSE BLOBHEX CHUNK PUBHEX...
//   node test/sealing.mjs open IN OUT JWK                     (the recipient's private key as a JWK JSON string)
//   node test/sealing.mjs keypair                             prints {"jwk":…,"public":"04…"}
//   node test/sealing.mjs rows FILE                           a dataset's shared first dimension, or exit 3 and why
//   node test/sealing.mjs outputs FILE...                     per file, an ONNX model's output elements per row ("null" when
//                                                             symbolic) or "error: why", one line each; with one file, exit 3 on error
//   node test/sealing.mjs grant SEALED JWK ENCLAVEHEX OUTPUTHEX  unwraps the file key as the owner and prints a key grant (hex)
import { readFileSync, writeFileSync } from "node:fs";
import { seal, open, AES_128_GCM, publicKeyBytes } from "../src/sealing/hpke.js";
import { sealChunks, openSealed, readHeader, unwrapFileKey } from "../src/sealing/envelope.js";
import { wrapGrant } from "../src/sealing/grants.js";
import { safetensorsRows } from "../src/sealing/safetensors.js";
import { onnxOutputElementsPerRow } from "../src/sealing/onnx-outputs.js";

const hex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const toHex = (b) => Buffer.from(b).toString("hex");
const subtle = globalThis.crypto.subtle;

async function pairFromJwk(jwk) {
  const privateKey = await subtle.importKey("jwk", jwk, { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const { d, ...pub } = jwk;
  const publicKey = await subtle.importKey("jwk", { ...pub, key_ops: [] }, { name: "ECDH", namedCurve: "P-256" }, true, []);
  return { privateKey, publicKey };
}

const b64u = (b) => Buffer.from(b).toString("base64url");
const jwkOf = (d, pub) => ({ kty: "EC", crv: "P-256", d: b64u(hex(d)), x: b64u(hex(pub).slice(1, 33)), y: b64u(hex(pub).slice(33)), ext: true });

const [command, ...args] = process.argv.slice(2);
if (command === "vector") {
  // RFC 9180 A.3.1: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
  const info = hex("4f6465206f6e2061204772656369616e2055726e");
  const pkEm = "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4";
  const pkRm = "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0";
  const ephemeral = await pairFromJwk(jwkOf("4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb", pkEm));
  const recipient = await pairFromJwk(jwkOf("f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2", pkRm));
  const pt = hex("4265617574792069732074727574682c20747275746820626561757479");
  const aad = hex("436f756e742d30");
  const expected = "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434";
  const { enc, ciphertext } = await seal(hex(pkRm), info, aad, pt, AES_128_GCM, ephemeral);
  if (toHex(enc) !== pkEm || toHex(ciphertext) !== expected) throw new Error(`seal differs: ${toHex(enc)} ${toHex(ciphertext)}`);
  const opened = await open(recipient, hex(pkEm), info, aad, hex(expected), AES_128_GCM);
  if (toHex(opened) !== toHex(pt)) throw new Error("open differs");
  process.stdout.write("ok");
} else if (command === "rows") {
  try {
    process.stdout.write(String(await safetensorsRows(new Blob([readFileSync(args[0])]))));
  } catch (error) {
    process.stderr.write(error.message);
    process.exit(3);
  }
} else if (command === "outputs") {
  let failed = false;
  for (const file of args) {
    try {
      process.stdout.write(`${await onnxOutputElementsPerRow(new Blob([readFileSync(file)]))}\n`);
    } catch (error) {
      process.stdout.write(`error: ${error.message}\n`);
      failed = true;
    }
  }
  if (failed && args.length === 1) process.exit(3);
} else if (command === "grant") {
  const [input, jwk, enclave, output] = args;
  const header = readHeader(new Uint8Array(readFileSync(input)));
  const fileKey = await unwrapFileKey(header, await pairFromJwk(JSON.parse(jwk)));
  process.stdout.write(toHex(await wrapGrant(fileKey, header, hex(enclave), hex(output))));
} else if (command === "keypair") {
  const pair = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  process.stdout.write(JSON.stringify({ jwk: await subtle.exportKey("jwk", pair.privateKey), public: toHex(await publicKeyBytes(pair)) }));
} else if (command === "seal") {
  const [input, output, purpose, blobHex, chunk, ...recipients] = args;
  const parts = [];
  for await (const part of sealChunks(new Uint8Array(readFileSync(input)), recipients.map(hex), purpose, hex(blobHex), Number(chunk))) parts.push(part);
  writeFileSync(output, Buffer.concat(parts));
} else if (command === "open") {
  const [input, output, jwk] = args;
  try {
    writeFileSync(output, await openSealed(new Uint8Array(readFileSync(input)), await pairFromJwk(JSON.parse(jwk))));
  } catch (error) {
    process.stderr.write(`${error.name}: ${error.message}`);
    process.exit(error.name === "SealedDataError" ? 3 : 1);
  }
} else {
  process.stderr.write("usage: vector | keypair | seal … | open …");
  process.exit(2);
}
