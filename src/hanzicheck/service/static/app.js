// The practice page: pick a target, draw it (mouse, pen or touch), check it.
// Inference runs in the browser (onnxruntime-web, the same model.onnx + templates as the server); when that
// cannot start, the page asks the server's API instead. Stroke diagnosis always comes from the server.
import { IMAGE_SIZE, InvalidImageError, preprocessRGBA } from "./preprocess.js";
import { dropTable, explanation, verifyOne } from "./verdict.js";

const base = new URL(".", document.baseURI);
const url = (path) => new URL(path, base).toString();
const $ = (id) => document.getElementById(id);
const MAX_BACKING = 512; // canvas pixels; preprocess shrinks anything larger, keeping it below avoids that step
const PEN = 0.03; // pen width as a fraction of the pad's side (the model was trained on 2–5 % of the character box)
const UNKNOWN = "Unknown";

const state = {
  chars: [], // [[char, pinyin], ...]
  pinyin: new Map(),
  target: "我",
  strokes: [], // each a list of [x, y] in pad units (0..1, y down)
  current: null,
  engine: null, // "browser" | "server"
  model: null, // {session, templates, chars, classes, thresholds, confidence, dim, row}
  seq: 0,
  lastInput: null,
  lastResult: null,
};

// ------------------------------------------------------------------ the pad

const grid = $("grid");
const ink = $("ink");
const overlay = $("overlay");
const inkCtx = ink.getContext("2d", { willReadFrequently: true });

function sizeCanvases() {
  const side = ink.getBoundingClientRect().width || 400;
  const backing = Math.max(64, Math.min(MAX_BACKING, Math.round(side * (window.devicePixelRatio || 1))));
  for (const c of [grid, ink, overlay]) {
    c.width = backing;
    c.height = backing;
  }
  drawGrid();
  redraw();
  clearOverlay();
}

function drawGrid() {
  // the 米字格 practice grid, on its own canvas under the ink (it never reaches the model)
  const g = grid.getContext("2d");
  const n = grid.width;
  g.clearRect(0, 0, n, n);
  g.strokeStyle = "#efc9c4";
  g.lineWidth = Math.max(1, n / 300);
  g.setLineDash([n / 60, n / 60]);
  g.beginPath();
  g.moveTo(n / 2, 0); g.lineTo(n / 2, n);
  g.moveTo(0, n / 2); g.lineTo(n, n / 2);
  g.moveTo(0, 0); g.lineTo(n, n);
  g.moveTo(n, 0); g.lineTo(0, n);
  g.stroke();
}

function penWidth() {
  return Math.max(2, PEN * ink.width);
}

function strokePath(ctx, pts, scale) {
  ctx.beginPath();
  ctx.moveTo(pts[0][0] * scale, pts[0][1] * scale);
  if (pts.length === 1) ctx.lineTo(pts[0][0] * scale + 0.01, pts[0][1] * scale);
  for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0] * scale, pts[i][1] * scale);
  ctx.stroke();
}

function redraw() {
  const n = ink.width;
  inkCtx.clearRect(0, 0, n, n);
  inkCtx.strokeStyle = "#000";
  inkCtx.lineWidth = penWidth();
  inkCtx.lineCap = "round";
  inkCtx.lineJoin = "round";
  for (const s of state.strokes) strokePath(inkCtx, s, n);
  if (state.current) strokePath(inkCtx, state.current, n);
}

function padPoint(ev) {
  const r = ink.getBoundingClientRect();
  return [(ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height];
}

ink.addEventListener("pointerdown", (ev) => {
  if (ev.button !== 0 && ev.pointerType === "mouse") return;
  ev.preventDefault();
  ink.setPointerCapture(ev.pointerId);
  state.current = [padPoint(ev)];
  clearOverlay();
  redraw();
});
ink.addEventListener("pointermove", (ev) => {
  if (!state.current) return;
  const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
  for (const e of events.length ? events : [ev]) state.current.push(padPoint(e));
  redraw();
});
function endStroke() {
  if (!state.current) return;
  state.strokes.push(state.current);
  state.current = null;
  redraw();
}
ink.addEventListener("pointerup", endStroke);
ink.addEventListener("pointercancel", endStroke);

function clearOverlay() {
  overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
  $("missing").hidden = true;
  $("order").hidden = true;
}

// ------------------------------------------------------------------ target picker

function setTarget(ch) {
  state.target = ch;
  $("target").value = ch;
  $("target-char").textContent = ch;
  $("target-pinyin").textContent = state.pinyin.get(ch) || "";
  $("sim-target").textContent = ch;
  const u = new URL(location.href);
  u.searchParams.set("char", ch);
  history.replaceState(null, "", u);
}

async function loadChars() {
  const res = await fetch(url("static/chars.json"));
  if (!res.ok) throw new Error(`static/chars.json: HTTP ${res.status}`);
  state.chars = await res.json();
  state.pinyin = new Map(state.chars);
  const select = $("target");
  for (const [c, p] of state.chars) {
    const opt = document.createElement("option");
    opt.value = c;
    opt.textContent = `${c}  ${p}`;
    select.append(opt);
  }
  const wanted = new URL(location.href).searchParams.get("char");
  setTarget(state.pinyin.has(wanted) ? wanted : state.chars[0][0]);
}

// ------------------------------------------------------------------ engines

async function startBrowserEngine() {
  if (!window.ort) throw new Error("onnxruntime-web did not load");
  ort.env.wasm.wasmPaths = url("static/ort/");
  ort.env.wasm.numThreads = 1; // no cross-origin isolation needed; the model is small
  ort.env.wasm.proxy = false;
  const [session, tj] = await Promise.all([
    ort.InferenceSession.create(url("model/model.onnx"), { executionProviders: ["wasm"] }),
    fetch(url("model/templates.json")).then((r) => {
      if (!r.ok) throw new Error(`templates.json: HTTP ${r.status}`);
      return r.json();
    }),
  ]);
  const raw = Uint8Array.from(atob(tj.embeddings), (c) => c.charCodeAt(0));
  const templates = new Float32Array(raw.buffer);
  const row = new Map(tj.chars.map((c, i) => [c, i]));
  return { session, templates, dim: tj.dim, chars: tj.chars, classes: tj.classes, thresholds: tj.thresholds,
    confidence: tj.confidence_threshold, calibration: tj.calibration,
    unknown: tj.classes.indexOf(UNKNOWN), row, verdict: tj.verdict, drops: dropTable(tj) };
}

function inkImage() {
  return inkCtx.getImageData(0, 0, ink.width, ink.height);
}

// softmax(logits / T − bias·[Unknown]) from the network's softmax, as Calibration.apply
// (inference/calibration.py). templates.json's `calibration` is Calibration.to_metadata(): `temperature` and
// `unknown_bias` are what is still to apply; `temperature_folded` and `unknown_bias_folded` are already in the
// model (exported models have everything folded in: T = 1, bias = 0).
function calibrated(p, calibration, unknown) {
  const t = calibration.temperature;
  const bias = calibration.unknown_bias;
  if (t === 1 && bias === 0) return p;
  const logp = Array.from(p, (v, i) => Math.log(Math.max(v, 1e-30)) / t - (i === unknown ? bias : 0));
  const top = Math.max(...logp);
  const e = logp.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return Float32Array.from(e, (v) => v / sum);
}

// Same rules as Recognizer.classify_probs / verify_outputs (verdict.js).
async function checkInBrowser(target) {
  const m = state.model;
  const img = inkImage();
  const x = preprocessRGBA(img.data, img.width, img.height);
  state.lastInput = x;
  const feeds = { image: new ort.Tensor("float32", x, [1, IMAGE_SIZE, IMAGE_SIZE, 1]) };
  const out = await m.session.run(feeds);
  const probs = calibrated(out.probs.data, m.calibration, m.unknown);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  const best = order[0];
  const conf = probs[best];
  let char = m.classes[best];
  if (char === UNKNOWN || conf < m.confidence) char = UNKNOWN;
  const classification = { char, confidence: conf, top_k: order.slice(0, 5).map((i) => [m.classes[i], probs[i]]) };
  const r = m.row.get(target);
  const verification = r === undefined
    ? { target, verdict: "invalid_target", similarity: null, threshold: null }
    : verifyOne(m, probs, out.embedding.data, target, m.classes.indexOf(target), r); // verdict.js: the one rule
  return { classification, verification };
}

async function postJSON(path, body) {
  const res = await fetch(url(path), { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || `HTTP ${res.status}`);
  return data;
}

async function checkOnServer(target) {
  // the canvas itself (transparent PNG, composited on white by the server): both engines see the same pixels
  const image = ink.toDataURL("image/png");
  const [classification, verification] = await Promise.all([
    postJSON("v1/classify", { image, top_k: 5 }),
    postJSON("v1/verify", { image, target }),
  ]);
  return { classification, verification };
}

// ------------------------------------------------------------------ checking and showing

function padStrokes() {
  // pad units → 0..1000, what /v1/diagnose gets (any scale works; integers keep the request small)
  return state.strokes.map((s) => s.map(([x, y]) => [Math.round(x * 10000) / 10, Math.round(y * 10000) / 10]));
}

async function check() {
  const seq = ++state.seq;
  const verdictEl = $("verdict");
  clearOverlay();
  if (!state.strokes.length) {
    show(seq, null, "Draw the character first.");
    return state.lastResult;
  }
  verdictEl.className = "verdict busy";
  verdictEl.textContent = "Checking…";
  const target = state.target;
  let result;
  try {
    if (state.engine === "browser") {
      try {
        result = await checkInBrowser(target);
      } catch (e) {
        if (e instanceof InvalidImageError) throw e; // the drawing's fault (no ink, one blot): the server says the same
        console.warn("in-browser inference failed, using the server", e);
        setEngine("server");
        result = await checkOnServer(target);
      }
    } else {
      result = await checkOnServer(target);
    }
  } catch (e) {
    show(seq, null, String(e.message || e));
    return state.lastResult;
  }
  result.engine = state.engine;
  show(seq, result);
  if (result.verification.verdict !== "invalid_target") diagnose(seq, target, result.verification.verdict);
  return result;
}

function fmt(x) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(3);
}

function show(seq, result, error) {
  if (seq !== state.seq) return; // a newer check is on its way
  const v = $("verdict");
  state.lastResult = result ? { ...result, seq } : { error, seq };
  v.dataset.seq = String(seq);
  const list = $("topk");
  list.replaceChildren();
  const fill = $("sim-fill");
  const th = $("sim-threshold");
  if (!result) {
    v.className = "verdict error";
    v.dataset.verdict = "error";
    v.textContent = error;
    fill.style.width = "0";
    th.style.display = "none";
    $("sim-value").textContent = "–";
    return;
  }
  const ver = result.verification;
  v.dataset.verdict = ver.verdict;
  v.className = `verdict ${ver.verdict}`;
  v.textContent = {
    correct: `✓ Correct: that is ${ver.target}`,
    incomplete_or_unclear: `✗ Not quite: ${explanation(ver)}`,
    invalid_target: `${ver.target} is not one of the HSK1 characters`,
  }[ver.verdict];
  const sim = ver.score ?? ver.similarity ?? 0; // the rule's score (the similarity + prob_weight·ln p)
  const threshold = ver.threshold ?? null;
  // The bar spans the score from lo to 1: lo = 0 while the threshold is 0.5 or more (a similarity-only verdict);
  // a rule with a probability weight has scores and thresholds below 0, and lo = 2·threshold − 1 puts the
  // threshold mark mid-bar instead of pinning it (and every score under 0) to the left edge.
  const lo = Math.min(0, 2 * (threshold ?? 0.5) - 1);
  const pos = (x) => `${Math.max(0, Math.min(1, (x - lo) / (1 - lo))) * 100}%`;
  fill.style.width = pos(sim);
  fill.className = ver.verdict === "correct" ? "ok" : "low";
  th.style.display = threshold === null ? "none" : "block";
  if (threshold !== null) th.style.left = pos(threshold);
  $("sim-value").textContent = `${fmt(ver.score ?? ver.similarity)} (needs ${fmt(ver.threshold)})`;
  for (const [c, p] of result.classification.top_k) {
    const li = document.createElement("li");
    if (c === ver.target) li.className = "is-target";
    const pct = Math.round(p * 1000) / 10;
    li.innerHTML = `<span class="c" lang="zh"></span><span class="p"></span>` +
      `<span class="bar"><div style="width:${Math.min(100, pct)}%"></div></span><span class="v">${pct}%</span>`;
    li.querySelector(".c").textContent = c === UNKNOWN ? "?" : c;
    li.querySelector(".p").textContent = c === UNKNOWN ? "unknown" : state.pinyin.get(c) || "";
    list.append(li);
  }
}

// The server's /v1/diagnose, asked after every check: the stroke order and direction of the pad's strokes (advice,
// shown with any verdict: a correct character can be written in the wrong order) and, after a refusal, the missing
// strokes, drawn in red on the overlay where they belong. #verdict's data-diagnosed says which check it answered.
async function diagnose(seq, target, verdict) {
  try {
    await showDiagnosis(seq, await postJSON("v1/diagnose", { strokes: padStrokes(), target }), verdict);
  } catch (e) {
    console.info("no stroke diagnosis:", e.message);
  } finally {
    if (seq === state.seq) $("verdict").dataset.diagnosed = String(seq);
  }
}

function showDiagnosis(seq, d, verdict) {
  if (seq !== state.seq) return;
  const order = orderNote(d.stroke_order);
  const missing = verdict === "correct" ? [] : d.missing_strokes || []; // the page's verdict stands
  if (!order && !missing.length) return;
  state.lastResult = { ...state.lastResult, diagnosis: d };
  $("order").textContent = order;
  $("order").hidden = !order;
  if (!missing.length) return;
  const ctx = overlay.getContext("2d");
  const k = overlay.width / 1000;
  ctx.strokeStyle = "rgba(214, 40, 40, 0.8)";
  ctx.lineWidth = penWidth() * 1.2;
  ctx.lineCap = "round";
  ctx.setLineDash([penWidth() * 1.5, penWidth()]);
  for (const i of missing) {
    const pts = d.reference_strokes[i];
    if (pts && pts.length) strokePath(ctx, pts, k);
  }
  const el = $("missing");
  const names = missing.map((i) => i + 1).join(", ");
  el.textContent = `Missing stroke${missing.length > 1 ? "s" : ""} ${names} (in stroke order), shown in red.`;
  el.hidden = false;
}

// /v1/diagnose's stroke_order (null for an image) as one sentence, strokes counted from 1; "" when all is well.
function orderNote(order) {
  if (!order) return "";
  const named = (ks) => `stroke${ks.length > 1 ? "s" : ""} ${ks.map((k) => k + 1).join(", ")}`;
  const parts = [];
  if (order.out_of_order.length) parts.push(`${named(order.out_of_order)} drawn before an earlier stroke`);
  if (order.reversed.length) parts.push(`${named(order.reversed)} drawn backwards`);
  return parts.length ? `Stroke order: ${parts.join("; ")}.` : "";
}

function setEngine(engine) {
  state.engine = engine;
  const el = $("engine");
  el.className = `engine ${engine}`;
  el.textContent = engine === "browser" ? "model runs in your browser" : "model runs on the server";
}

// ------------------------------------------------------------------ wiring

$("target").addEventListener("change", (e) => {
  setTarget(e.target.value);
  clearPad();
});
$("random").addEventListener("click", () => {
  setTarget(state.chars[Math.floor(Math.random() * state.chars.length)][0]);
  clearPad();
});
function clearPad() {
  state.seq++; // a check still on its way is for the old drawing: drop its answer
  state.strokes = [];
  state.current = null;
  redraw();
  clearOverlay();
  resetResult();
}

function resetResult() {
  const v = $("verdict");
  v.className = "verdict idle";
  v.dataset.verdict = "";
  v.textContent = "Draw the character, then press Check.";
  $("topk").replaceChildren();
  $("sim-fill").style.width = "0";
  $("sim-threshold").style.display = "none";
  $("sim-value").textContent = "–";
}
$("clear").addEventListener("click", clearPad);
$("undo").addEventListener("click", () => {
  state.strokes.pop();
  redraw();
  clearOverlay();
});
$("check").addEventListener("click", () => check());
new ResizeObserver(() => sizeCanvases()).observe($("board"));

async function init() {
  sizeCanvases();
  try {
    await loadChars();
  } catch (e) { // without the character list there is nothing to practise: say so instead of "loading…" forever
    $("engine").textContent = "unavailable";
    show(0, null, `Cannot load the character list (${e.message || e}); reload the page.`);
    $("check").disabled = true;
    return;
  }
  const forced = new URL(location.href).searchParams.get("engine");
  if (forced === "server") {
    setEngine("server");
    return;
  }
  try {
    state.model = await startBrowserEngine();
    setEngine("browser");
  } catch (e) {
    console.warn("in-browser inference unavailable, using the server", e);
    setEngine("server");
  }
}

// For tests and for apps that embed the page.
window.hanzicheck = {
  ready: init(),
  check,
  setTarget: (c) => { setTarget(c); clearPad(); },
  clear: clearPad,
  get state() { return state; },
};
