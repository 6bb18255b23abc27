// Builds a wallet's signed external message with @ton/ton (the second implementation the devnet is checked against):
//   node test/ton-wallet.mjs VERSION SEEDHEX SEQNO VALID_UNTIL DEST AMOUNT COMMENT [BOUNCE] [SIGNING_SEEDHEX]
// VERSION is v4 or v5; prints {"address": raw, "boc": base64}. The state init rides along when SEQNO is 0.
import { WalletContractV4, WalletContractV5R1, internal, external, beginCell, storeMessage, SendMode, Address } from "@ton/ton";
import { keyPairFromSeed } from "@ton/crypto";

const [version, seedHex, seqnoText, validUntilText, destination, amount, comment, bounce, signingSeedHex] = process.argv.slice(2);
const keys = keyPairFromSeed(Buffer.from(seedHex, "hex"));
const wallet = version === "v5"
  ? WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey })
  : WalletContractV4.create({ workchain: 0, publicKey: keys.publicKey });
const seqno = Number(seqnoText);
const body = wallet.createTransfer({
  seqno,
  // Another key's signature on this wallet's message, when asked (what a wallet must refuse).
  secretKey: signingSeedHex ? keyPairFromSeed(Buffer.from(signingSeedHex, "hex")).secretKey : keys.secretKey,
  sendMode: SendMode.PAY_GAS_SEPARATELY,
  timeout: Number(validUntilText),
  messages: [internal({ to: Address.parse(destination), value: BigInt(amount), bounce: bounce === "bounce", body: comment })],
});
const message = external({ to: wallet.address, init: seqno === 0 ? wallet.init : undefined, body });
const boc = beginCell().store(storeMessage(message)).endCell().toBoc().toString("base64");
process.stdout.write(JSON.stringify({ address: wallet.address.toRawString(), boc }));
