// Bundles our modules and styles into the portal's static files, and draws the wallet icon.
// Run by Cocoon.Web's build (npm run build).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { drawIcon } from "./icon.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../Cocoon.Web/wwwroot/dist");
const common = { outdir: out, bundle: true, format: "esm", minify: true, sourcemap: true, target: ["es2022"], logLevel: "warning" };

await build({ ...common, entryPoints: [resolve(here, "src/cocoon.js"), resolve(here, "src/cocoon.css")] });
// The wallet module is large (TON Connect UI, @ton/*) and only the sign-in page loads it.
await build({ ...common, entryPoints: [resolve(here, "src/wallet.js")], inject: [resolve(here, "src/wallet/buffer-shim.js")] });
// Sealing: the page's module and the Web Worker that encrypts and uploads (WebCrypto only).
await build({ ...common, entryPoints: [resolve(here, "src/vault.js"), resolve(here, "src/seal-worker.js")] });

mkdirSync(resolve(out, "icons"), { recursive: true });
writeFileSync(resolve(out, "icons/cocoon-180.png"), drawIcon(180));
