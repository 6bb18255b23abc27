// Signs a TON Connect sendTransaction request the way a wallet would, with @ton/ton (a second implementation
// the portal's requests and the devnet are checked against):
//   node test/ton-connect-sign.mjs VERSION SEEDHEX SEQNO REQUEST_JSON [VALID_UNTIL]   (REQUEST_JSON "address": just the wallet's address)
// VERSION is v4 or v5. Prints {"address": raw, "boc": base64, "comments": [...], "bounceable": [...], "testOnly": [...]}:
// the comments are each message's payload as @ton/core decodes it. The state init rides along when SEQNO is 0.
import { WalletContractV4, WalletContractV5R1, internal, external, beginCell, storeMessage, SendMode, Address, Cell } from "@ton/ton";
import { keyPairFromSeed } from "@ton/crypto";

const [version, seedHex, seqnoText, requestJson, validUntilText] = process.argv.slice(2);
const keys = keyPairFromSeed(Buffer.from(seedHex, "hex"));
const wallet = version === "v5"
  ? WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey })
  : WalletContractV4.create({ workchain: 0, publicKey: keys.publicKey });
if (requestJson === "address") {
  process.stdout.write(JSON.stringify({ address: wallet.address.toRawString() }));
  process.exit(0);
}
const request = JSON.parse(requestJson);
const seqno = Number(seqnoText);
const comments = [], bounceable = [], testOnly = [];
const messages = request.messages.map(m => {
  const friendly = Address.parseFriendly(m.address);
  bounceable.push(friendly.isBounceable);
  testOnly.push(friendly.isTestOnly);
  const body = Cell.fromBase64(m.payload);
  const slice = body.beginParse();
  if (slice.loadUint(32) !== 0) throw new Error("payload is not a text comment");
  comments.push(slice.loadStringTail());
  if (!/^[0-9]+$/.test(m.amount)) throw new Error(`amount ${m.amount} is not a decimal string`);
  return internal({ to: friendly.address, value: BigInt(m.amount), bounce: friendly.isBounceable, body });
});
const body = wallet.createTransfer({
  seqno,
  secretKey: keys.secretKey,
  sendMode: SendMode.PAY_GAS_SEPARATELY + SendMode.IGNORE_ERRORS,
  timeout: Number(validUntilText || request.validUntil),
  messages,
});
const message = external({ to: wallet.address, init: seqno === 0 ? wallet.init : undefined, body });
const boc = beginCell().store(storeMessage(message)).endCell().toBoc().toString("base64");
process.stdout.write(JSON.stringify({ address: wallet.address.toRawString(), boc, comments, bounceable, testOnly }));
