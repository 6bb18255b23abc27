// The ton_proof message and digest, byte for byte as the TON Connect spec defines them.
import { sha256 } from "@ton/crypto";

const encoder = new TextEncoder();

export async function proofDigest(address, domain, timestamp, payload) {
  const domainBytes = encoder.encode(domain);
  const workchain = Buffer.alloc(4);
  workchain.writeInt32BE(address.workChain);
  const domainLength = Buffer.alloc(4);
  domainLength.writeUInt32LE(domainBytes.length);
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(BigInt(timestamp));
  const message = Buffer.concat([
    Buffer.from("ton-proof-item-v2/"),
    workchain,
    address.hash,
    domainLength,
    Buffer.from(domainBytes),
    time,
    Buffer.from(encoder.encode(payload)),
  ]);
  return sha256(Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from("ton-connect"), await sha256(message)]));
}
