// The Development-only test wallet: a real Ed25519 key pair made in this browser, a real wallet
// contract's state init (v4r2 or W5 from @ton/ton), and a genuine ton_proof the portal verifies
// exactly like a real wallet's. Its seed stays in this browser's localStorage.
import { beginCell, storeStateInit, storeMessage, external, internal, Address, Cell, SendMode } from "@ton/core";
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

/**
 * Signs the transfer a TON Connect request describes with the test wallet, as a wallet app does when it
 * approves, and returns the external message's BoC (base64). Bounceable addresses are sent bounceable.
 */
export async function testWalletSign(request, version = "v4r2") {
  const keys = keyPairFromSeed(seed());
  const wallet = version === "v5r1"
    ? WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey })
    : WalletContractV4.create({ workchain: 0, publicKey: keys.publicKey });
  const state = await (await fetch("/api/dev/devnet/wallet")).json();
  const seqno = Number(state.seqno ?? 0);
  const body = wallet.createTransfer({
    seqno,
    secretKey: keys.secretKey,
    sendMode: SendMode.PAY_GAS_SEPARATELY,
    timeout: request.validUntil,
    messages: request.messages.map((m) => internal({
      to: Address.parse(m.address),
      value: BigInt(m.amount),
      bounce: Address.isFriendly(m.address) ? Address.parseFriendly(m.address).isBounceable : false,
      body: Cell.fromBase64(m.payload),
    })),
  });
  const message = external({ to: wallet.address, init: seqno === 0 ? wallet.init : undefined, body });
  return beginCell().store(storeMessage(message)).endCell().toBoc().toString("base64");
}

/**
 * Signs the transfer a TON Connect request describes with the test wallet and hands it to the local
 * devnet through the portal (Development only): what a real wallet app does when it approves.
 */
export async function testWalletSend(request, version = "v4r2") {
  const boc = await testWalletSign(request, version);
  const response = await fetch("/api/dev/devnet/send", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ boc }) });
  if (!response.ok) throw new Error(`The devnet refused the transfer: ${await response.text()}`);
}
