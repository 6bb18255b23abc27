// Makes ton_proofs with @ton/ton's wallet contracts for every version Cocoon recognises, so the C#
// verifier is checked against a second implementation (Cocoon.Web.Tests runs this with node).
//   node test/ton-proofs.mjs <seed hex> <domain> <timestamp> <payload>
import { beginCell, storeStateInit } from "@ton/core";
import { keyPairFromSeed, sign } from "@ton/crypto";
import { WalletContractV3R1, WalletContractV3R2, WalletContractV4, WalletContractV5Beta, WalletContractV5R1 } from "@ton/ton";
import { proofDigest } from "../src/wallet/proof.js";

const [seedHex, domain, timestamp, payload] = process.argv.slice(2);
const keys = keyPairFromSeed(Buffer.from(seedHex, "hex"));
const wallets = {
  V3R1: WalletContractV3R1.create({ workchain: 0, publicKey: keys.publicKey }),
  V3R2: WalletContractV3R2.create({ workchain: 0, publicKey: keys.publicKey }),
  V4R2: WalletContractV4.create({ workchain: 0, publicKey: keys.publicKey }),
  V5R1: WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey }),
  V5Beta: WalletContractV5Beta.create({ workchain: 0, publicKey: keys.publicKey }),
};

const proofs = {};
for (const [version, wallet] of Object.entries(wallets)) {
  const digest = await proofDigest(wallet.address, domain, Number(timestamp), payload);
  proofs[version] = {
    address: wallet.address.toRawString(),
    network: "-239",
    public_key: keys.publicKey.toString("hex"),
    proof: {
      timestamp: Number(timestamp),
      domain: { lengthBytes: Buffer.byteLength(domain), value: domain },
      payload,
      signature: sign(digest, keys.secretKey).toString("base64"),
      state_init: beginCell().store(storeStateInit(wallet.init)).endCell().toBoc().toString("base64"),
    },
  };
}
process.stdout.write(JSON.stringify(proofs));
