// Copies the onnxruntime-web files the practice page needs from node_modules into the package's static folder.
//   (cd web && npm ci) && node web/vendor_ort.mjs
// Only the WebAssembly CPU build: ort.wasm.min.js (the API, a classic script defining `ort`) and the SIMD
// runtime it loads (.mjs glue + .wasm). WebGPU/WebGL/JSEP builds are left out to keep the package small.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "node_modules", "onnxruntime-web", "dist");
const dest = path.join(here, "..", "src", "hanzicheck", "service", "static", "ort");
const FILES = ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

const version = JSON.parse(fs.readFileSync(path.join(dist, "..", "package.json"), "utf8")).version;
fs.mkdirSync(dest, { recursive: true });
for (const f of FILES) {
  fs.copyFileSync(path.join(dist, f), path.join(dest, f));
  console.log(`${f}  ${(fs.statSync(path.join(dest, f)).size / 1e6).toFixed(2)} MB  (onnxruntime-web ${version})`);
}
