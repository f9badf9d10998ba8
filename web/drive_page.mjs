// Drives the practice page in headless Chromium (Debian's /usr/bin/chromium) with Playwright: for each scenario,
// pick the target, draw the strokes with real mouse events, press Check and report what the page shows.
//
//   node web/drive_page.mjs plan.json > results.json
//
// plan.json: {"url", "userDataDir", "shotDir", "viewport": {"width", "height"}, "deviceScaleFactor", "isMobile",
//             "hasTouch", "executablePath" (optional), "block": [URL globs made to fail, e.g. "**/*.wasm"],
//             "scenarios": [{"name", "target", "strokes": [[[x, y], ...], ...], "box": 1024, "waitDiagnosis": false}]}
// Points are in a box×box square (y down) mapped onto the pad with a 12 % margin. Each scenario leaves a
// screenshot <shotDir>/<name>.png. Output: {"engine", "startText": {"engine", "verdict"} (what the page says once
// ready), "results": [...], "console": [...], "errors": [...]}.
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

const context = await chromium.launchPersistentContext(plan.userDataDir, {
  executablePath: plan.executablePath || "/usr/bin/chromium",
  headless: true,
  args: ARGS,
  viewport: plan.viewport || { width: 1100, height: 820 },
  deviceScaleFactor: plan.deviceScaleFactor || 1,
  hasTouch: Boolean(plan.hasTouch),
  isMobile: Boolean(plan.isMobile),
});
const consoleLines = [];
const pageErrors = [];
const out = { engine: null, results: [], console: consoleLines, errors: pageErrors };
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(plan.timeoutMs || 30000);
  for (const pattern of plan.block || []) await page.route(pattern, (route) => route.abort()); // e.g. "**/*.wasm"
  await page.goto(plan.url, { waitUntil: "load" });
  await page.evaluate(() => window.hanzicheck.ready);
  out.engine = await page.evaluate(() => window.hanzicheck.state.engine);
  out.startText = { engine: await page.textContent("#engine"), verdict: await page.textContent("#verdict") };
  if (plan.shotDir) fs.mkdirSync(plan.shotDir, { recursive: true });

  for (const sc of plan.scenarios || []) {
    await page.selectOption("#target", sc.target);
    await page.click("#clear");
    const box = await page.locator("#ink").boundingBox();
    const unit = sc.box || 1024;
    const m = 0.12;
    const at = ([x, y]) => [box.x + box.width * (m + (1 - 2 * m) * (x / unit)),
      box.y + box.height * (m + (1 - 2 * m) * (y / unit))];
    for (const stroke of sc.strokes) {
      const [x0, y0] = at(stroke[0]);
      await page.mouse.move(x0, y0);
      await page.mouse.down();
      for (const p of stroke.slice(1)) {
        const [x, y] = at(p);
        await page.mouse.move(x, y, { steps: 4 });
      }
      await page.mouse.up();
    }
    const before = Number(await page.getAttribute("#verdict", "data-seq"));
    await page.click("#check");
    await page.waitForFunction((n) => {
      const v = document.getElementById("verdict");
      return Number(v.dataset.seq) > n && !v.classList.contains("busy");
    }, before);
    if (sc.waitDiagnosis) { // the server's diagnosis of this check has come back (or failed)
      await page.waitForFunction(() => {
        const v = document.getElementById("verdict");
        return v.dataset.diagnosed === v.dataset.seq;
      }, null, { timeout: 15000 }).catch(() => {});
    }
    const res = await page.evaluate(() => {
      const s = window.hanzicheck.state;
      const ink = document.getElementById("ink");
      return {
        result: s.lastResult,
        engine: s.engine,
        verdictText: document.getElementById("verdict").textContent,
        missingText: document.getElementById("missing").hidden ? null : document.getElementById("missing").textContent,
        orderText: document.getElementById("order").hidden ? null : document.getElementById("order").textContent,
        input: s.lastInput ? Array.from(s.lastInput) : null,
        canvas: ink.toDataURL("image/png"),
        canvasSize: [ink.width, ink.height],
        // the score bar, in % of its width: the fill and the threshold mark (null when hidden)
        bar: {
          fill: parseFloat(document.getElementById("sim-fill").style.width),
          threshold: document.getElementById("sim-threshold").style.display === "block"
            ? parseFloat(document.getElementById("sim-threshold").style.left) : null,
        },
      };
    });
    res.name = sc.name;
    if (plan.shotDir) {
      res.screenshot = path.join(plan.shotDir, `${sc.name}.png`);
      await page.screenshot({ path: res.screenshot, fullPage: true });
    }
    out.results.push(res);
  }
} catch (e) {
  out.fatal = String(e && e.stack ? e.stack : e);
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(out));
