// A port of hanzicheck.data.preprocess.preprocess() for the browser: RGBA pixels → Float32Array(40 × 40),
// 1 = paper, 0 = the darkest ink; ink cropped, centred in a square with a 2-pixel margin, aspect kept.
// Every step mirrors the Python one (same constants, same quantiles, Pillow's BILINEAR resize with its
// anti-aliasing support), so the model sees the same tensor in the browser and on the server.

export const IMAGE_SIZE = 40;
const MARGIN = 2;
const MAX_WORK_SIDE = 512;
const MIN_CONTRAST = 24;
const NOISE_FLOOR = 0.15;
const INK_LEVEL = 0.05; // darkness above which a pixel counts for the ink box (faint strokes too)
const BLOT_DEPTH = 10; // preprocess.py's: erosions at which the ink is one blot, not strokes
const BLOT_MESSAGE = "no strokes: the ink is one dot or blot, too thick for its size to be a character";
// preprocess.py's: uneven lighting divided out (a plane fitted to the paper of an 8 × 8 grid of cells)
const FLAT_CELLS = 8;
const UNEVEN_PAPER = 32;
const PAPER_OUTLIER = 24;
// preprocess.py's: guide lines (a practice grid, ruled lines) lighter than the ink are erased
const GUIDE_DENSITY = 0.25;
const GUIDE_SPAN = 0.9;
const GUIDE_WIDTH = 0.025;
const GUIDE_OPEN = 0.2;
const GUIDE_TONE = 0.5;
const GUIDE_TILT = 3.0; // degrees: rows and columns turned by up to this much (a photo taken askew) are read too

export class InvalidImageError extends Error {}

// RGBA (ImageData.data) → uint8 grey, transparency composited on white (as _array_to_gray). When that leaves
// no contrast but the alpha channel has some (light strokes on a transparent canvas), the alpha is the drawing.
export function rgbaToGray(data, width, height) {
  const n = width * height;
  const x = new Float64Array(n);
  let lo = Infinity, hi = -Infinity, alo = Infinity, ahi = -Infinity;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const a = data[j + 3] / 255;
    const r = data[j] * a + 255 * (1 - a);
    const g = data[j + 1] * a + 255 * (1 - a);
    const b = data[j + 2] * a + 255 * (1 - a);
    x[i] = r * 0.299 + g * 0.587 + b * 0.114;
    lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]);
    alo = Math.min(alo, data[j + 3]); ahi = Math.max(ahi, data[j + 3]);
  }
  const useAlpha = hi - lo < MIN_CONTRAST && MIN_CONTRAST <= ahi - alo;
  const gray = new Uint8Array(n);
  for (let i = 0; i < n; i++) gray[i] = clip8(useAlpha ? 255 - data[4 * i + 3] : x[i]);
  return gray;
}

export function preprocessRGBA(data, width, height) {
  return preprocessGray(rgbaToGray(data, width, height), width, height);
}

export function preprocessGray(gray, width, height) {
  if (width <= 0 || height <= 0) throw new InvalidImageError(`the image is empty (${width}×${height} pixels)`);
  if (Math.max(width, height) > MAX_WORK_SIDE) {
    [gray, width, height] = shrink(gray, width, height);
  }
  return normalise(gray, width, height);
}

// ---------------------------------------------------------------- Pillow's resampling (precompute_coeffs)

const FILTERS = {
  bilinear: { support: 1.0, f: (x) => { x = Math.abs(x); return x < 1.0 ? 1.0 - x : 0.0; } },
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0) },
};

function coefficients(inSize, outSize, filter) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1.0);
  const support = filter.support * filterscale;
  const out = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1.0 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const k = new Float64Array(Math.max(0, xmax));
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.f((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    if (ww !== 0.0) for (let x = 0; x < xmax; x++) k[x] /= ww;
    out.push({ xmin, k });
  }
  return out;
}

// Separable resize, horizontal pass first (as Pillow). `store` rounds each pass's values (Float32Array for
// mode F, rounding to uint8 for mode L).
function resample(src, w, h, outW, outH, filter, Store) {
  let cur = src;
  let cw = w;
  if (outW !== w) {
    const cx = coefficients(w, outW, filter);
    const tmp = new Store(outW * h);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const { xmin, k } = cx[xx];
        let s = 0.0;
        for (let x = 0; x < k.length; x++) s += cur[y * w + xmin + x] * k[x];
        tmp[y * outW + xx] = Store === Uint8Array ? clip8(s) : s;
      }
    }
    cur = tmp;
    cw = outW;
  }
  if (outH !== h) {
    const cy = coefficients(h, outH, filter);
    const tmp = new Store(cw * outH);
    for (let yy = 0; yy < outH; yy++) {
      const { xmin, k } = cy[yy];
      for (let x = 0; x < cw; x++) {
        let s = 0.0;
        for (let y = 0; y < k.length; y++) s += cur[(xmin + y) * cw + x] * k[y];
        tmp[yy * cw + x] = Store === Uint8Array ? clip8(s) : s;
      }
    }
    cur = tmp;
  }
  return cur;
}

function clip8(v) {
  return Math.min(255, Math.max(0, Math.round(v)));
}

function shrink(gray, w, h) {
  const scale = MAX_WORK_SIDE / Math.max(w, h);
  const nw = Math.max(1, Math.round(w * scale));
  const nh = Math.max(1, Math.round(h * scale));
  return [resample(gray, w, h, nw, nh, FILTERS.box, Uint8Array), nw, nh];
}

// ---------------------------------------------------------------- normalising (as _normalise)

function searchsorted(cum, value) {
  // first index i with cum[i] >= value (numpy searchsorted, side='left')
  let lo = 0;
  let hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function cumulativeHistogram(values) {
  const cum = new Float64Array(256);
  for (let i = 0; i < values.length; i++) cum[values[i]]++;
  for (let i = 1; i < 256; i++) cum[i] += cum[i - 1];
  return cum;
}

export function paperLevel(gray, w, h) {
  const cum = cumulativeHistogram(gray);
  const n = cum[255];
  const tail = Math.max(1, Math.floor(n / 200));
  const lo = searchsorted(cum, tail);
  const hi = searchsorted(cum, n - tail + 1);
  const mid = (lo + hi) / 2;
  if (h > 2 && w > 2) {
    const border = borderOf(gray, w, h);
    let lightCount = 0;
    for (const v of border) if (v > mid) lightCount++;
    const light = lightCount / border.length;
    if (light >= 0.8 || light <= 0.2) {
      const bcum = cumulativeHistogram(border);
      const paper = searchsorted(bcum, Math.floor((border.length + 1) / 2));
      return [paper, paper < mid];
    }
  }
  const median = searchsorted(cum, Math.floor((n + 1) / 2));
  return [median, median < mid];
}

function borderOf(gray, w, h) {
  // the outermost pixels: top row, bottom row, then the left and right columns between them (_border)
  const border = [];
  for (let x = 0; x < w; x++) border.push(gray[x]);
  for (let x = 0; x < w; x++) border.push(gray[(h - 1) * w + x]);
  for (let y = 1; y < h - 1; y++) border.push(gray[y * w]);
  for (let y = 1; y < h - 1; y++) border.push(gray[y * w + w - 1]);
  return border;
}

// Dark ink on unevenly lit paper → the same on even paper (flatten_paper): the same array when the border is even.
export function flattenPaper(gray, w, h) {
  if (Math.min(w, h) < 2 * FLAT_CELLS) return gray;
  const border = borderOf(gray, w, h);
  const bcum = cumulativeHistogram(border);
  const n = border.length;
  const spread = searchsorted(bcum, n - Math.floor(n / 10)) - searchsorted(bcum, Math.max(1, Math.floor(n / 10)));
  if (spread <= UNEVEN_PAPER) return gray;
  const fit = paperPlane(gray, w, h);
  if (fit === null) return gray;
  const [a, b, c] = fit;
  const corners = [a, a + b * (w - 1), a + c * (h - 1), a + b * (w - 1) + c * (h - 1)];
  const top = Math.max(...corners);
  if (top - Math.min(...corners) <= UNEVEN_PAPER) return gray;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const plane = Math.max(a + b * x + c * y, 1.0);
      out[y * w + x] = Math.min(255, Math.max(0, Math.floor(gray[y * w + x] * (top / plane) + 0.5)));
    }
  }
  return out;
}

function paperPlane(gray, w, h) {
  // (a, b, c) of the paper's brightness a + b·x + c·y: each cell's 90th percentile grey (an order statistic of
  // its sampled pixels), refitted up to three times without the cells PAPER_OUTLIER darker than the plane (_paper_plane)
  const bh = Math.floor(h / FLAT_CELLS);
  const bw = Math.floor(w / FLAT_CELLS);
  const sy = Math.max(1, Math.floor(bh / 8));
  const sx = Math.max(1, Math.floor(bw / 8));
  const cells = FLAT_CELLS * FLAT_CELLS;
  const v = new Float64Array(cells);
  const cx = new Float64Array(cells);
  const cy = new Float64Array(cells);
  for (let i = 0; i < FLAT_CELLS; i++) {
    for (let j = 0; j < FLAT_CELLS; j++) {
      const vals = [];
      for (let yy = 0; yy < bh; yy += sy) {
        for (let xx = 0; xx < bw; xx += sx) vals.push(gray[(i * bh + yy) * w + j * bw + xx]);
      }
      vals.sort((p, q) => p - q);
      const idx = i * FLAT_CELLS + j;
      v[idx] = vals[Math.floor((9 * (vals.length - 1)) / 10)];
      cy[idx] = i * bh + (bh - 1) / 2.0;
      cx[idx] = j * bw + (bw - 1) / 2.0;
    }
  }
  let keep = new Array(cells).fill(true);
  let fit = null;
  for (let it = 0; it < 3; it++) {
    if (2 * keep.filter(Boolean).length < cells) return null;
    fit = fitPlane(cx, cy, v, keep);
    if (fit === null) return null;
    const [a, b, c] = fit;
    const now = Array.from(v, (vi, i) => vi - (a + b * cx[i] + c * cy[i]) > -PAPER_OUTLIER);
    if (now.every((k, i) => k === keep[i])) break;
    keep = now;
  }
  return fit;
}

function fitPlane(x, y, v, keep) {
  // least squares a + b·x + c·y ≈ v over the kept cells, by Cramer's rule (_fit_plane: the same operations)
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, sv = 0, sxv = 0, syv = 0;
  for (let i = 0; i < v.length; i++) {
    if (!keep[i]) continue;
    n += 1; sx += x[i]; sy += y[i];
    sxx += x[i] * x[i]; sxy += x[i] * y[i]; syy += y[i] * y[i];
    sv += v[i]; sxv += x[i] * v[i]; syv += y[i] * v[i];
  }
  const det = n * (sxx * syy - sxy * sxy) - sx * (sx * syy - sxy * sy) + sy * (sx * sxy - sxx * sy);
  if (det === 0) return null;
  const da = sv * (sxx * syy - sxy * sxy) - sx * (sxv * syy - sxy * syv) + sy * (sxv * sxy - sxx * syv);
  const db = n * (sxv * syy - syv * sxy) - sv * (sx * syy - sxy * sy) + sy * (sx * syv - sxv * sy);
  const dc = n * (sxx * syv - sxy * sxv) - sx * (sx * syv - sxv * sy) + sv * (sx * sxy - sxx * sy);
  return [da / det, db / det, dc / det];
}

function inkBox(mask, w, h) {
  // bounding box of ink pixels with at least two ink neighbours (3×3 box sum ≥ 3), specks ignored
  const hs = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      hs[i] = mask[i] + (x > 0 ? mask[i - 1] : 0) + (x < w - 1 ? mask[i + 1] : 0);
    }
  }
  let y0 = h;
  let y1 = -1;
  let x0 = w;
  let x1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      const v = hs[i] + (y > 0 ? hs[i - w] : 0) + (y < h - 1 ? hs[i + w] : 0);
      if (v < 3) continue;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
    }
  }
  return y1 < 0 ? null : [y0, y1 + 1, x0, x1 + 1];
}

function normalise(gray, w, h) {
  let [paper, inverted] = paperLevel(gray, w, h);
  // dark ink on paper: a photo's uneven lighting is divided out; a page a deep shadow makes look inverted is
  // taken flattened only when it then reads as dark ink on paper (_normalise)
  const flat = flattenPaper(gray, w, h);
  if (flat !== gray) {
    const [flatPaper, flatInverted] = paperLevel(flat, w, h);
    if (!inverted || !flatInverted) {
      gray = flat;
      [paper, inverted] = [flatPaper, flatInverted];
    }
  }
  const dark = new Float32Array(w * h);
  let contrast = 0;
  for (let i = 0; i < dark.length; i++) {
    dark[i] = inverted ? gray[i] - paper : paper - gray[i];
    if (dark[i] > contrast) contrast = dark[i];
  }
  if (contrast < MIN_CONTRAST) {
    throw new InvalidImageError(`no ink: the image is blank or too faint (contrast ${contrast.toFixed(0)} of 255 grey levels)`);
  }
  eraseGuides(dark, w, h, contrast);
  const floor = Math.fround(NOISE_FLOOR * contrast);
  const gain = Math.fround(1.0 / (contrast - floor));
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < dark.length; i++) {
    dark[i] = Math.min(1, Math.max(0, Math.fround(dark[i] - floor) * gain));
    mask[i] = dark[i] > INK_LEVEL ? 1 : 0;
  }
  const box = inkBox(mask, w, h);
  if (box === null) throw new InvalidImageError("no ink: only isolated specks, no strokes");
  const [y0, y1, x0, x1] = box;
  const ch = y1 - y0;
  const cw = x1 - x0;
  const side = Math.max(ch, cw);
  const square = new Float32Array(side * side);
  const oy = Math.floor((side - ch) / 2);
  const ox = Math.floor((side - cw) / 2);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) square[(oy + y) * side + ox + x] = dark[(y0 + y) * w + x0 + x];
  }
  const inner = IMAGE_SIZE - 2 * MARGIN;
  const small = resample(square, side, side, inner, inner, FILTERS.bilinear, Float32Array);
  let top = 0;
  for (const v of small) if (v > top) top = v;
  const out = new Float32Array(IMAGE_SIZE * IMAGE_SIZE).fill(1.0);
  if (top > 0) {
    const inv = Math.fround(1.0 / top);
    for (let y = 0; y < inner; y++) {
      for (let x = 0; x < inner; x++) {
        const v = Math.min(1, Math.max(0, Math.fround(small[y * inner + x] * inv)));
        out[(MARGIN + y) * IMAGE_SIZE + MARGIN + x] = 1.0 - v;
      }
    }
  }
  if (inkDepth(out) >= BLOT_DEPTH) throw new InvalidImageError(BLOT_MESSAGE);
  return out;
}

// ---------------------------------------------------------------- guide lines (preprocess.py's erase_guides)

// Sets to paper, in place, the guide lines of the darkness array: rows and columns, straight and turned (a photo
// taken askew), and a square image's two diagonals where a row or a column was a guide; all read before anything
// is erased.
export function eraseGuides(dark, w, h, contrast) {
  const lo = Math.floor(NOISE_FLOOR * contrast) + 1;
  const light = GUIDE_TONE * contrast;
  const width = Math.max(3, Math.floor(GUIDE_WIDTH * Math.min(h, w) + 0.5));
  const found = [
    ...guidesIn(dark, h, w, (i, x) => i * w + x, lo, light, contrast, width, true), // rows
    ...guidesIn(dark, w, h, (i, y) => y * w + i, lo, light, contrast, width, true), // columns
  ];
  for (const transposed of [false, true]) {
    const turned = tilted(dark, w, h, lo, light, width, transposed);
    if (turned) {
      found.push(...guidesIn(dark, turned.nLines, turned.n, turned.at, lo, light, contrast, width + 1, true, true));
    }
  }
  if (found.length === 0) return;
  if (Math.abs(h - w) <= 2 && h >= 16) {
    for (const strips of diagonals(h, w, width)) {
      found.push(...guidesIn(dark, strips.length, h, (i, y) => strips[i][y], lo, light, contrast, width + 1, false));
    }
  }
  const erased = [];
  for (const [pixels, cut] of found) {
    for (const p of pixels) if (p >= 0 && dark[p] <= cut) erased.push(p);
  }
  for (const p of erased) dark[p] = 0;
}

// Rows (transposed: columns) sheared by the slope, among ±GUIDE_TILT degrees, whose lines hold the most
// guide-toned ink (preprocess.py's _tilted: slopes compared on every third position, the first reached wins a
// tie, walking out from 0): {nLines, n, at} for guidesIn, or null (no span, no dense line, or straight wins).
function tilted(dark, w, h, lo, light, width, transposed) {
  const [nLines0, n] = transposed ? [w, h] : [h, w];
  const index = transposed ? (k, x) => x * w + k : (k, x) => k * w + x; // line k, position x
  const isLight = (p) => dark[p] >= lo && dark[p] <= light;
  if (n < 16) return null;
  let across = 0;
  for (let x = 0; x < n; x++) {
    for (let k = 0; k < nLines0; k++) {
      if (isLight(index(k, x))) { across++; break; }
    }
  }
  if (across < GUIDE_SPAN * n) return null;
  const step = Math.max(1, Math.floor(width / 4)); // half pixels of drift between slopes tried
  const reach = Math.ceil(2 * Math.tan(GUIDE_TILT * (Math.PI / 180)) * (n - 1));
  const drifts = [0];
  for (let k = step; k <= reach; k += step) drifts.push(-k, k);
  const span = nLines0 + reach + 2;
  const off = Math.floor(reach / 2) + 1;
  const counts = new Int32Array(span * drifts.length);
  for (let k = 0; k < nLines0; k++) {
    for (let x = 0; x < n; x += 3) {
      if (!isLight(index(k, x))) continue;
      for (let s = 0; s < drifts.length; s++) counts[s * span + k - shear(drifts[s], x, n) + off]++;
    }
  }
  let best = 0, bestCount = -1;
  for (let s = 0; s < drifts.length; s++) {
    let top = 0;
    for (let i = 0; i < span; i++) top = Math.max(top, counts[s * span + i]);
    if (top > bestCount) { best = s; bestCount = top; }
  }
  const d = drifts[best];
  if (d === 0 || bestCount < GUIDE_DENSITY * Math.ceil(n / 3)) return null;
  const end = shear(d, n - 1, n);
  const first = -Math.max(end, 0);
  const at = (i, x) => {
    const k = i + first + shear(d, x, n);
    return k >= 0 && k < nLines0 ? index(k, x) : -1;
  };
  return { nLines: nLines0 + Math.abs(end), n, at };
}

// round(drift · x / (2(n − 1))), halves up: the shift at position x of a line drifting `drift` half pixels.
function shear(drift, x, n) {
  return Math.floor((drift * x + (n - 1)) / (2 * (n - 1)));
}

// The strips along the main and the anti-diagonal: line k is the diagonal moved k − (2·width + 1) columns, its
// pixels' indices (−1 outside the image).
function diagonals(h, w, width) {
  const out = [];
  for (const anti of [false, true]) {
    const strips = [];
    for (let k = -(2 * width + 1); k <= 2 * width + 1; k++) {
      strips.push(Int32Array.from({ length: h }, (_, y) => {
        const along = Math.floor(y * ((w - 1) / (h - 1)) + 0.5);
        const x = anti ? w - 1 - along - k : along + k;
        return x >= 0 && x < w ? y * w + x : -1;
      }));
    }
    out.push(strips);
  }
  return out;
}

// The guides among nLines lines of n pixels, pixel x of line i at index at(i, x) (−1: outside the image, paper),
// line i beside line i + 1: [pixels of the guide and of a line each side, the darkness up to which they are
// erased] (_lines_in). `light`: the darkest a guide's ink is. `turned`: the lines are a turned guide's sheared
// rows (_lines_in's `inside`): a line spans the positions inside the image.
function guidesIn(dark, nLines, n, at, lo, light, contrast, width, edgeIsPaper, turned = false) {
  const value = (p) => (p >= 0 ? dark[p] : 0);
  const spanning = new Uint8Array(nLines);
  for (let i = 0; i < nLines; i++) {
    let count = 0, first = -1, last = -1, inside = 0;
    for (let x = 0; x < n; x++) {
      const p = at(i, x);
      if (p >= 0) inside++;
      const v = value(p);
      if (v < lo || v > light) continue;
      count++;
      if (first < 0) first = x;
      last = x;
    }
    spanning[i] = count >= GUIDE_DENSITY * n && last - first + 1 >= GUIDE_SPAN * (turned ? inside : n) ? 1 : 0;
  }
  const found = [];
  for (let i = 0; i < nLines; i++) {
    if (!spanning[i]) continue;
    let j = i;
    while (j + 1 < nLines && spanning[j + 1]) j++;
    const cut = j - i + 1 <= width ? guideCut(value, at, nLines, n, lo, light, i, j, contrast, edgeIsPaper) : null;
    if (cut !== null) {
      const pixels = [];
      for (let r = Math.max(0, i - 1); r <= Math.min(nLines - 1, j + 1); r++) {
        for (let x = 0; x < n; x++) pixels.push(at(r, x));
      }
      found.push([pixels, cut]);
    }
    i = j;
  }
  return found;
}

// Lines i..j as one guide: the darkness up to which it is erased, or null when it has paper beside it along
// less than GUIDE_OPEN of its length where it is light, or its tone there is darker than GUIDE_TONE of the ink.
function guideCut(value, at, nLines, n, lo, light, i, j, contrast, edgeIsPaper) {
  const tones = [];
  for (let x = 0; x < n; x++) {
    let open = false, top = 0;
    for (let r = i; r <= j; r++) {
      const v = value(at(r, x));
      open = open || (v >= lo && v <= light);
      top = Math.max(top, v);
    }
    for (const k of [i - 1, j + 1]) {
      if (k >= 0 && k < nLines) open = open && value(at(k, x)) < lo;
      else if (!edgeIsPaper) open = false;
    }
    if (open) tones.push(top);
  }
  if (tones.length < GUIDE_OPEN * n) return null;
  tones.sort((a, b) => a - b);
  const tone = tones[Math.floor((tones.length - 1) / 2)];
  return tone <= GUIDE_TONE * contrast ? (tone + contrast) / 2 : null;
}

// How many erosions (4-neighbour) the ink (< 0.5) of a model input survives, counted up to cap (preprocess.py's
// ink_depth): a lone dot or dash blown up to the box survives BLOT_DEPTH of them, a character's strokes do not.
export function inkDepth(x, cap = BLOT_DEPTH) {
  const n = IMAGE_SIZE;
  let m = Uint8Array.from(x, (v) => (v < 0.5 ? 1 : 0));
  let k = 0;
  while (k < cap && m.includes(1)) {
    const e = new Uint8Array(n * n);
    for (let y = 0; y < n; y++) {
      for (let x2 = 0; x2 < n; x2++) {
        const i = y * n + x2;
        e[i] = m[i] && (y === 0 || m[i - n]) && (y === n - 1 || m[i + n]) && (x2 === 0 || m[i - 1])
          && (x2 === n - 1 || m[i + 1]) ? 1 : 0;
      }
    }
    m = e;
    k += 1;
  }
  return k;
}
