"""The handwriting engine: deform stroke polylines like a person's hand, join them with the pen's travel, draw.

Everything works on points (cheap) rather than pixels: per-component and per-stroke moves, trimmed and extended
ends, wobble, a smooth random displacement field and a global affine all act on the stroke polylines in the
unit box; consecutive strokes are often joined by the pen's travel and the joined line smoothed (round corners,
讠 in one go); the result is drawn with a PIL pen on a supersampled canvas, then paper, ink, blur and noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .config import SynthConfig
from .shapes import SPACING, smooth

Group = tuple[np.ndarray, np.ndarray | None]  # pen-down points (n, 2) and, when joined, a mask of stroke points


def _u(rng: np.random.Generator, lohi: tuple[float, float]) -> float:
    return lohi[0] + (lohi[1] - lohi[0]) * rng.random()


def _means(values: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    count = np.maximum(np.bincount(ids, minlength=n), 1)
    return np.stack([np.bincount(ids, values[:, 0], n), np.bincount(ids, values[:, 1], n)], axis=1) / count[:, None]


def _trim(pts: np.ndarray, counts: np.ndarray, rng: np.random.Generator,
          cfg: SynthConfig, mess: float) -> tuple[np.ndarray, np.ndarray]:
    """Shorten some stroke ends (hurried writing) and extend others along their end tangent (vectorised)."""
    n = len(counts)
    cut = (rng.random((n, 2)) * cfg.trim * mess * (rng.random((n, 2)) < 0.5) * counts[:, None]).astype(np.int64)
    cut[(counts <= 3) | (counts - cut.sum(axis=1) < 2)] = 0
    starts = np.cumsum(counts) - counts
    sid = np.repeat(np.arange(n), counts)
    local = np.arange(len(pts)) - starts[sid]
    keep = (local >= cut[sid, 0]) & (local < (counts - cut[:, 1])[sid])
    pts, counts = pts[keep], counts - cut.sum(axis=1)
    grow = rng.random((n, 2)) * cfg.extend * mess * (rng.random((n, 2)) < 0.3)
    ok = counts >= 2
    starts = (np.cumsum(counts) - counts)[ok]
    ends = starts + counts[ok] - 1
    for end, nb, g in ((starts, starts + 1, grow[ok, 0]), (ends, ends - 1, grow[ok, 1])):
        t = pts[end] - pts[nb]
        pts[end] += t / (np.hypot(t[:, 0], t[:, 1])[:, None] + 1e-9) * g[:, None]
    return pts, counts


def deform(lines: Sequence[np.ndarray], components: Sequence[Sequence[int]], rng: np.random.Generator,
           cfg: SynthConfig, strokewise: bool = True, mess: float = 1.0) -> list[np.ndarray]:
    """Move components and strokes, wobble, warp and shear the polylines (unit box) like a writer's hand.

    ``mess`` scales every local displacement (neat vs hurried writers); ``strokewise=False`` skips trimming
    and wobble (for filled outlines)."""
    n = len(lines)
    counts = np.array([len(ln) for ln in lines])
    pts = np.concatenate(lines).astype(np.float64)
    if strokewise:
        pts, counts = _trim(pts, counts, rng, cfg, mess)
    sid = np.repeat(np.arange(n), counts)
    # components (radical / clusters) move and scale together; strokes outside any component move alone
    comp_of = np.arange(n)
    for k, comp in enumerate(components):
        comp_of[list(comp)] = n + k
    _, inverse = np.unique(comp_of, return_inverse=True)
    cid = inverse[sid]
    nc = int(inverse.max()) + 1
    ccen = _means(pts, cid, nc)
    cscale = np.exp(rng.normal(0, cfg.component_scale * mess, nc))
    cshift = rng.normal(0, cfg.component_shift * mess, (nc, 2))
    pts = (pts - ccen[cid]) * cscale[cid, None] + ccen[cid] + cshift[cid]
    # every stroke: a small shift, rotation and scale about its centre
    scen = _means(pts, sid, n)
    if cfg.stroke_stretch > 0:  # ... and its own width and height (七's cross short and its foot long)
        stretch = np.exp(rng.normal(0, cfg.stroke_stretch * mess, (n, 2)))
        pts = scen[sid] + (pts - scen[sid]) * stretch[sid]
    ang = np.deg2rad(rng.normal(0, cfg.stroke_rotation_deg * mess, n))
    sscale = np.exp(rng.normal(0, cfg.stroke_scale * mess, n))
    if cfg.stroke_outlier_prob > 0:  # now and then one stroke far off: 七's cross rising steeply, 八's left a tick
        odd = rng.random(n) < cfg.stroke_outlier_prob
        turn = np.deg2rad(rng.uniform(*cfg.stroke_outlier_deg, n)) * rng.choice((-1.0, 1.0), n)
        ang = np.where(odd, ang + turn, ang)
        sscale = np.where(odd, sscale * rng.uniform(*cfg.stroke_outlier_scale, n), sscale)
    c, s = np.cos(ang)[sid] * sscale[sid], np.sin(ang)[sid] * sscale[sid]
    d = pts - scen[sid]
    pts = scen[sid] + rng.normal(0, cfg.stroke_shift * mess, (n, 2))[sid] + np.stack(
        [c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], axis=1)
    if strokewise and cfg.wobble > 0:  # smooth wobble along each stroke
        local = (np.arange(len(pts)) - np.repeat(np.cumsum(counts) - counts, counts)) * SPACING
        freq = 2 * np.pi * _u(rng, cfg.wobble_freq)
        amp = cfg.wobble * mess * rng.uniform(0.2, 1.6)
        phase = rng.uniform(0, 2 * np.pi, (n, 2))[sid]
        pts += amp * np.sin(freq * local[:, None] * (1.0, 1.3) + phase)
    # a smooth random displacement field over the whole character
    if cfg.elastic > 0:  # two plane waves per axis, random direction, frequency and phase
        direction = rng.normal(size=(2, 4))
        direction /= np.hypot(direction[0], direction[1]) + 1e-9
        freq = 2 * np.pi * rng.uniform(*cfg.elastic_freq, size=4)
        wave = np.sin((pts @ direction) * freq + rng.uniform(0, 2 * np.pi, 4)) * (
            cfg.elastic * mess * rng.normal(size=4))
        pts[:, 0] += wave[:, 0] + wave[:, 1]
        pts[:, 1] += wave[:, 2] + wave[:, 3]
    # global affine: slant (shear), rotation, aspect
    slant = float(np.clip(rng.normal(0, cfg.slant), -cfg.slant_max, cfg.slant_max))
    rot = np.deg2rad(float(np.clip(rng.normal(0, cfg.rotation_deg), -cfg.rotation_max_deg, cfg.rotation_max_deg)))
    aspect = np.exp(rng.normal(cfg.aspect_log_mean, cfg.aspect_log_sigma) / 2)
    rise = rng.normal(cfg.rise, cfg.rise_sigma)  # horizontals climb to the right, verticals stay upright
    m = np.array([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]]) @ np.array(
        [[aspect, -slant / aspect], [0.0, 1 / aspect]]) @ np.array([[1.0, 0.0], [-rise, 1.0]])
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    pts = (pts - centre) @ m.T + centre
    return np.split(pts, np.cumsum(counts)[:-1])


def _connector(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, bulge: float) -> np.ndarray:
    """The pen's travel from ``a`` to ``b`` as a gently curved line (end points excluded)."""
    d = b - a
    dist = float(np.hypot(*d))
    m = int(dist / SPACING)
    if m < 1:
        return np.empty((0, 2))
    ctrl = (a + b) / 2 + np.array([-d[1], d[0]]) * bulge * rng.normal()
    t = (np.arange(1, m + 1) / (m + 1))[:, None]
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * ctrl + t**2 * b


def drop_hook(stroke: np.ndarray, max_len: float = 0.2, min_turn_deg: float = 60.0) -> np.ndarray:
    """``stroke`` without its end hook: a short last piece (≤ ``max_len``) turning sharply from the stroke's
    course (亅's flick, 乚's lift), cut at its sharpest turn; unchanged when it has none."""
    if len(stroke) < 6:
        return stroke
    seg = np.hypot(*np.diff(stroke, axis=0).T)
    k = int(np.searchsorted(np.cumsum(seg[::-1]), max_len))  # points within max_len of the end
    best, best_cos = -1, np.cos(np.deg2rad(min_turn_deg))
    for j in range(max(len(stroke) - 1 - k, 2), len(stroke) - 1):
        before, after = stroke[j] - stroke[j - 2], stroke[-1] - stroke[j]
        cos = float(before @ after) / (float(np.hypot(*before) * np.hypot(*after)) + 1e-9)
        if cos < best_cos:
            best, best_cos = j, cos
    return stroke[:best + 1] if best > 0 else stroke


def join(strokes: Sequence[np.ndarray], rng: np.random.Generator, cfg: SynthConfig,
         hurry: float | None = None, components: Sequence[Sequence[int]] = ()) -> list[Group]:
    """Group consecutive strokes into pen-down runs joined by the pen's travel, smoothed like fluent writing.

    ``hurry`` in [0, 1] (random if None) sets how often strokes are joined, and how often a hurried hand drops
    end hooks (``hook_drop_prob``) and lets a dot that starts a joined run flow straight into the next stroke
    (``dot_merge_prob``: 讠 and 冫 in one movement). ``components`` (stroke indices) are the radical and the
    small clusters; each of 2–4 strokes is, with ``component_join_prob`` × hurry, written in its fluent form
    (``component_forms``)."""
    hurry = rng.random() if hurry is None else hurry
    q = 0.0 if hurry < cfg.separate_prob else cfg.join_prob[0] + (cfg.join_prob[1] - cfg.join_prob[0]) * (
        (hurry - cfg.separate_prob) / (1 - cfg.separate_prob))
    sigma = _u(rng, cfg.smooth) / SPACING if rng.random() < cfg.smooth_prob else 0.0
    if cfg.hook_drop_prob > 0:
        strokes = [drop_hook(st) if rng.random() < cfg.hook_drop_prob * hurry else st for st in strokes]
    forced = component_forms(components, len(strokes), rng, cfg.component_join_prob * hurry)
    runs: list[list[np.ndarray]] = []
    inked: list[list[bool]] = []  # per run: is the travel before each of its strokes drawn as a stroke
    for i, stroke in enumerate(strokes):
        if i in forced:
            runs[-1].append(stroke)
            inked[-1].append(True)
            continue
        if i and q:
            gap = float(np.hypot(*(stroke[0] - strokes[i - 1][-1])))
            if rng.random() < q * (1.0 if gap < 0.45 else 0.4):
                prev = runs[-1][-1]
                if (cfg.dot_merge_prob > 0 and len(prev) > 1 and rng.random() < cfg.dot_merge_prob * hurry
                        and float(np.hypot(*(prev[-1] - prev[0]))) < cfg.dot_length):
                    runs[-1][-1] = prev[:1]  # the dot is only where the pen came down
                runs[-1].append(stroke)
                inked[-1].append(False)
                continue
        runs.append([stroke])
        inked.append([True])
    groups: list[Group] = []
    for run, ink in zip(runs, inked, strict=True):
        if len(run) == 1:
            groups.append((smooth(run[0], sigma), None))
            continue
        parts, masks = [run[0]], [np.ones(len(run[0]), bool)]
        for k, (prev, nxt) in enumerate(zip(run, run[1:], strict=False)):
            conn = _connector(prev[-1], nxt[0], rng, cfg.connector_bulge)
            parts += [conn, nxt]  # after a merged dot, or inside a fluent component, the travel is inked
            masks += [np.full(len(conn), len(prev) == 1 or ink[k + 1]), np.ones(len(nxt), bool)]
        groups.append((smooth(np.concatenate(parts), sigma), np.concatenate(masks)))
    return groups


def component_forms(components: Sequence[Sequence[int]], n: int, rng: np.random.Generator,
                    prob: float) -> set[int]:
    """The strokes that a fluent writer joins to the stroke before them, with the travel inked as a stroke:
    for each component of 2–4 strokes (讠, 口, 女, 氵, 亻, 灬, 纟 …) drawn with probability ``prob``, every
    stroke of it that directly follows another of it in writing order. 讠 becomes one stroke, 口 a loop, 氵 a
    zig-zag line, 灬 one wavy line, as pen-down counts of real writers have them (口 and 女 a median half of
    their strokes, 讠 0.56)."""
    if prob <= 0:
        return set()
    out: set[int] = set()
    for comp in components:
        members = sorted(int(i) for i in comp if 0 <= int(i) < n)
        if 2 <= len(members) <= 4 and rng.random() < prob:
            out.update(b for a, b in zip(members, members[1:], strict=False) if b == a + 1)
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2], strict=True))


def _placement(points: np.ndarray, rng: np.random.Generator, cfg: SynthConfig, big: int,
               strokes: int) -> tuple[float, np.ndarray, bool]:
    """(scale, offset, written small): size and position on the canvas. Nobody writes 都 in 10 px: the
    smallest size grows with the number of strokes."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = max(float((hi - lo).max()), 0.05)
    small = rng.random() < cfg.small_prob
    if small:
        least = max(cfg.small_size[0], 0.1 + 0.03 * strokes)
        size = _u(rng, (least, max(least, cfg.small_size[1]))) * big
    else:
        size = _u(rng, cfg.size) * big
    scale = size / extent
    free = np.maximum(big - (hi - lo) * scale, 0)
    return scale, rng.random(2) * free - lo * scale, small


def finish(coverage: Image.Image, rng: np.random.Generator, cfg: SynthConfig, blur: bool = True) -> np.ndarray:
    """Ink coverage (L, 255 = full ink, supersampled) → uint8 dark ink on paper with blur, tone and noise.

    ``blur=False`` for small writing: it is blurred enough by being enlarged later."""
    if cfg.supersample > 1:
        coverage = coverage.reduce(cfg.supersample)
    if rng.random() < cfg.blur_prob and blur:
        coverage = coverage.filter(ImageFilter.GaussianBlur(_u(rng, cfg.blur)))
    cov = np.asarray(coverage, dtype=np.float32) * (1 / 255)
    paper = 255.0
    if rng.random() < cfg.paper_tone_prob:
        h, w = cov.shape
        paper = _u(rng, cfg.paper_tone) + rng.normal(0, 6) * np.linspace(-1, 1, w)[None, :] * np.ones((h, 1))
    ink = _u(rng, cfg.ink)
    img = paper - cov * (paper - ink)
    if rng.random() < cfg.noise_prob:
        img = img + rng.normal(0, _u(rng, cfg.noise), cov.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _line(draw: ImageDraw.ImageDraw, xy: np.ndarray, width: int, ink: int = 255) -> None:
    """A polyline; a wide pen gets round joints at sharp corners only (PIL's joint="curve" at every point
    costs most of the drawing time, and dense points turn gently elsewhere)."""
    draw.line(xy.ravel().tolist(), fill=ink, width=width)
    if width >= 4 and len(xy) > 2:
        d = np.diff(xy, axis=0)
        a, b = d[:-1], d[1:]
        cos = (a * b).sum(axis=1) / (np.hypot(a[:, 0], a[:, 1]) * np.hypot(b[:, 0], b[:, 1]) + 1e-9)
        r = width / 2
        for x, y in xy[1:-1][cos < 0.85]:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)


def draw_groups(groups: Sequence[Group], rng: np.random.Generator, cfg: SynthConfig, canvas: int,
                strokes: int, skip: int | None = None) -> np.ndarray:
    """Draw pen-down runs (of ``strokes`` strokes in all) with a pen 2–5% of the character box (sometimes
    wider), the pen's travel thinner and lighter. ``skip``: a run placed and drawn like the others but left off
    the paper (the same drawing with that pen-down stroke missing, for the same ``rng`` state)."""
    big = canvas * cfg.supersample
    scale, offset, small = _placement(np.concatenate([g for g, _ in groups]), rng, cfg, big, strokes)
    wide = rng.random() < cfg.wide_pen_prob
    pen = _u(rng, cfg.wide_pen_width if wide else cfg.pen_width) * scale
    pen = max(pen, _u(rng, cfg.min_pen_px) * cfg.supersample)  # a real pen keeps its width on small writing
    travel = _u(rng, cfg.connector_width)
    travel_ink = round(255 * _u(rng, cfg.connector_ink))
    uneven = rng.random() < cfg.stroke_ink_prob
    img = Image.new("L", (big, big), 0)
    ink = ImageDraw.Draw(img)
    nowhere = None if skip is None else ImageDraw.Draw(Image.new("L", (big, big), 0))  # the skipped run goes here
    for k, (points, mask) in enumerate(groups):
        xy = points * scale + offset
        w = max(1.0, pen * float(np.exp(rng.normal(0, cfg.pressure))))
        level = round(255 * _u(rng, cfg.stroke_ink)) if uneven else 255  # pressure shows as darkness too
        draw = nowhere if k == skip else ink
        if mask is None or (travel > 0.9 and travel_ink > 240):
            pieces = [(0, len(xy))]
        else:
            tw = max(1, round(w * travel))
            _line(draw, xy, tw, min(travel_ink, level))
            pieces = _runs(mask)
        for a, b in pieces:
            seg = xy[a:b]
            if len(seg) > 1:
                _line(draw, seg, max(1, round(w)), level)
            if w >= 2.5 or len(seg) < 2:  # round caps; dots
                r = w / 2
                for x, y in (seg[0], seg[-1]):
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=level)
    return finish(img, rng, cfg, blur=not small)


def draw_polygons(polys: Sequence[np.ndarray], rng: np.random.Generator, cfg: SynthConfig,
                  canvas: int) -> np.ndarray:
    """Fill outline polygons (unit box), font-like."""
    big = canvas * cfg.supersample
    scale, offset, small = _placement(np.concatenate(polys), rng, cfg, big, len(polys))
    img = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(img)
    for poly in polys:
        if len(poly) >= 3:
            draw.polygon((poly * scale + offset).ravel().tolist(), fill=255)
    return finish(img, rng, cfg, blur=not small)
