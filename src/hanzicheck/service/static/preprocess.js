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
    const border = [];
    for (let x = 0; x < w; x++) border.push(gray[x]);
    for (let x = 0; x < w; x++) border.push(gray[(h - 1) * w + x]);
    for (let y = 1; y < h - 1; y++) border.push(gray[y * w]);
    for (let y = 1; y < h - 1; y++) border.push(gray[y * w + w - 1]);
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
  const [paper, inverted] = paperLevel(gray, w, h);
  const dark = new Float32Array(w * h);
  let contrast = 0;
  for (let i = 0; i < dark.length; i++) {
    dark[i] = inverted ? gray[i] - paper : paper - gray[i];
    if (dark[i] > contrast) contrast = dark[i];
  }
  if (contrast < MIN_CONTRAST) {
    throw new InvalidImageError(`no ink: the image is blank or too faint (contrast ${contrast.toFixed(0)} of 255 grey levels)`);
  }
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
