// @ton/core expects Node's Buffer; esbuild injects this into the wallet bundle before any module runs.
import { Buffer } from "buffer";
globalThis.Buffer ??= Buffer;
export { Buffer };
