// Copies the browser files the package ships from node_modules into its static folder (no CDN at run time).
//   (cd web && npm ci) && node web/vendor.mjs
// - onnxruntime-web, only the WebAssembly CPU build: ort.wasm.min.js (the API, a classic script defining `ort`)
//   and the SIMD runtime it loads (.mjs glue + .wasm); WebGPU/WebGL/JSEP builds are left out to stay small.
// - swagger-ui-dist, for the API docs at /docs.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.join(here, "..", "src", "hanzicheck", "service", "static");
const COPIES = [
  ["onnxruntime-web", "dist", "ort", ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]],
  ["swagger-ui-dist", "", "docs", ["swagger-ui-bundle.js", "swagger-ui.css"]],
];

for (const [pkg, sub, destName, files] of COPIES) {
  const root = path.join(here, "node_modules", pkg);
  const version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version;
  const dest = path.join(staticDir, destName);
  fs.mkdirSync(dest, { recursive: true });
  for (const f of files) {
    fs.copyFileSync(path.join(root, sub, f), path.join(dest, f));
    console.log(`${destName}/${f}  ${(fs.statSync(path.join(dest, f)).size / 1e6).toFixed(2)} MB  (${pkg} ${version})`);
  }
}
