// Key grants (Cocoon.Shared/Sealing/KeyGrant.cs): a sealed file's key wrapped to an agent's enclave
// key with the file's own HPKE info, and with the job's output key as associated data, so a grant
// does not open for an assignment whose outputs would go to anyone but the developer.
import { concat, seal } from "./hpke.js";
import { wrapInfo, keyId } from "./envelope.js";

const encoder = new TextEncoder();

export const grantAad = (outputKey) => concat(encoder.encode("cocoon-grant/v1"), new Uint8Array([0]), outputKey);

/** Returns the 121-byte grant: key id of the enclave key ‖ HPKE enc ‖ wrapped file key. */
export async function wrapGrant(fileKey, header, enclaveKey, outputKey) {
  const { enc, ciphertext } = await seal(enclaveKey, wrapInfo(header.blobId, header.purpose), grantAad(outputKey), fileKey);
  return concat(await keyId(enclaveKey), enc, ciphertext);
}
