// Bundles our modules and styles into the portal's static files. Run by Cocoon.Web's build (npm run build).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../Cocoon.Web/wwwroot/dist");

await build({
  entryPoints: [resolve(here, "src/cocoon.js"), resolve(here, "src/cocoon.css")],
  outdir: out,
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  logLevel: "warning",
});
