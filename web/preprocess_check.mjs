// Runs the page's preprocess.js on grey images given as JSON, for comparing with Python's preprocess().
//   node web/preprocess_check.mjs cases.json   (cases: [{"w", "h", "gray" or "rgba": [uint8, ...]}]) → [[40×40 floats], ...]
import fs from "node:fs";
import { preprocessGray, preprocessRGBA } from "../src/hanzicheck/service/static/preprocess.js";

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = cases.map((c) => {
  try {
    const out = c.rgba ? preprocessRGBA(Uint8ClampedArray.from(c.rgba), c.w, c.h)
      : preprocessGray(Uint8Array.from(c.gray), c.w, c.h);
    return Array.from(out);
  } catch (e) {
    return { error: String(e.message) };
  }
});
process.stdout.write(JSON.stringify(out));
