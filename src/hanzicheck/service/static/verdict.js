// The verify rule of hanzicheck.inference.verdict, line for line, so that the page's in-browser verdict is the
// server's: score = similarity + prob_weight·max(ln p, log_p_floor);
// correct ⇔ rank ≤ max_rank and drop margin ≤ max_drop_margin and score ≥ threshold; a refusal names its reason
// (missing_stroke, other_character, far_from_template). tests/service/test_browser.py checks page and Python on the same
// drawings.

// float16 little-endian bytes → Float32Array (the drop templates travel as float16 to halve their size)
export function halfToFloat(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) {
    const h = view.getUint16(2 * i, true);
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * 2 ** -14 * (frac / 1024);
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

// {rows, offsets, dim} from templates.json's drop_templates / drop_offsets (null when the model has none)
export function dropTable(tj) {
  if (!tj.drop_templates) return null;
  const raw = Uint8Array.from(atob(tj.drop_templates), (c) => c.charCodeAt(0));
  return { rows: halfToFloat(raw), offsets: tj.drop_offsets, dim: tj.dim };
}

function dot(a, aStart, b, bStart, n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[aStart + i] * b[bStart + i];
  return s;
}

// The verdict for one image: probs (calibrated), emb (raw embedding), the target's class index and template
// row. m: {templates, thresholds, dim, classes, unknown, verdict, drops}.
export function verifyOne(m, probs, emb, target, cls, row) {
  const v = { prob_weight: 0, log_p_floor: -10, max_rank: 1000, ...(m.verdict || {}) };
  const maxMargin = v.max_drop_margin === null || v.max_drop_margin === undefined ? Infinity : v.max_drop_margin;
  let norm = 0;
  for (let i = 0; i < m.dim; i++) norm += emb[i] * emb[i];
  norm = Math.max(Math.sqrt(norm), 1e-8);
  const unit = Float64Array.from(emb, (x) => x / norm);
  const similarity = dot(unit, 0, m.templates, row * m.dim, m.dim);
  const p = probs[cls];
  let rank = 1;
  let top = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] > p) rank++;
    if (i !== cls && (top < 0 || probs[i] > probs[top])) top = i;
  }
  let margin = -Infinity; // no drop templates: nothing can be missing
  let stroke = -1;
  const d = m.drops;
  if (d) {
    const a = d.offsets[row];
    const b = d.offsets[row + 1];
    if (b - a >= 2) {
      const complete = dot(unit, 0, d.rows, a * m.dim, m.dim);
      let best = -Infinity;
      for (let k = 0; k < b - a - 1; k++) {
        const s = dot(unit, 0, d.rows, (a + 1 + k) * m.dim, m.dim);
        if (s > best) { best = s; stroke = k; }
      }
      margin = best - complete;
    }
  }
  const score = similarity + v.prob_weight * Math.max(Math.log(Math.max(p, 1e-30)), v.log_p_floor);
  const threshold = m.thresholds[row];
  const correct = rank <= v.max_rank && margin <= maxMargin && score >= threshold;
  let reason = null;
  if (!correct) {
    if (rank <= v.max_rank && score >= threshold && stroke >= 0) reason = "missing_stroke"; // only the drop gate
    else if (rank > 1 && top !== m.unknown) reason = "other_character";
    else reason = "far_from_template";
  }
  return {
    target, verdict: correct ? "correct" : "incomplete_or_unclear", similarity, threshold, score, probability: p,
    rank, reason, other: reason === "other_character" ? m.classes[top] : null,
    missing_stroke: reason === "missing_stroke" ? stroke : null,
  };
}

// The learner's sentence, as Verification.explanation()
export function explanation(ver) {
  const t = ver.target;
  if (ver.verdict === "invalid_target") return `${t} is not one of the HSK1 characters`;
  if (ver.verdict === "correct") return `this is ${t}`;
  if (ver.reason === "missing_stroke" && ver.missing_stroke !== null) {
    return `stroke ${ver.missing_stroke + 1} of ${t} looks missing`;
  }
  if (ver.reason === "other_character" && ver.other) return `this looks more like ${ver.other} than ${t}`;
  return `too far from ${t}`;
}
