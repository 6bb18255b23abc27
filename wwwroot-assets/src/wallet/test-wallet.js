// The Development-only test wallet: a real Ed25519 key pair made in this browser, a real wallet
// contract's state init (v4r2 or W5 from @ton/ton), and a genuine ton_proof the portal verifies
// exactly like a real wallet's. Its seed stays in this browser's localStorage.
import { beginCell, storeStateInit } from "@ton/core";
import { keyPairFromSeed, sign } from "@ton/crypto";
import { WalletContractV4, WalletContractV5R1 } from "@ton/ton";
import { proofDigest } from "./proof.js";

const seedKey = "cocoon.test-wallet.seed";

function seed() {
  let hex = localStorage.getItem(seedKey);
  if (!hex) {
    hex = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
    localStorage.setItem(seedKey, hex);
  }
  return Buffer.from(hex, "hex");
}

/** Builds the wallet and a proof for `payload`; version is "v4r2" or "v5r1". */
export async function testWalletProof(payload, version = "v4r2", domain = location.host) {
  const keys = keyPairFromSeed(seed());
  const wallet = version === "v5r1"
    ? WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey })
    : WalletContractV4.create({ workchain: 0, publicKey: keys.publicKey });
  const stateInit = beginCell().store(storeStateInit(wallet.init)).endCell().toBoc().toString("base64");
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = sign(await proofDigest(wallet.address, domain, timestamp, payload), keys.secretKey);
  return {
    address: wallet.address.toRawString(),
    network: "-3",
    public_key: keys.publicKey.toString("hex"),
    proof: {
      timestamp,
      domain: { lengthBytes: new TextEncoder().encode(domain).length, value: domain },
      payload,
      signature: signature.toString("base64"),
      state_init: stateInit,
    },
  };
}

/** Forgets the test wallet's key: the next sign-in makes a new account. */
export function forgetTestWallet() {
  localStorage.removeItem(seedKey);
}
