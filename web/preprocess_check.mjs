// Runs the page's preprocess.js on grey images given as JSON, for comparing with Python's preprocess().
//   node web/preprocess_check.mjs cases.json   (cases: [{"w", "h", "gray": [uint8, ...]}]) → [[40×40 floats], ...]
import fs from "node:fs";
import { preprocessGray } from "../src/hanzicheck/service/static/preprocess.js";

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = cases.map((c) => {
  try {
    return Array.from(preprocessGray(Uint8Array.from(c.gray), c.w, c.h));
  } catch (e) {
    return { error: String(e.message) };
  }
});
process.stdout.write(JSON.stringify(out));
