"""Put a drawing and a character's reference strokes in one frame: ink extraction, point sets, robust alignment.

The drawing (an image, or pen strokes) becomes a weighted point set ``Q`` in a working frame where the ink's
longest side spans ``FRAME`` pixels; each point's weight is the stroke length it stands for, so a thick pen
does not outweigh a thin one. The reference medians become an evenly spaced point set ``P`` (one point per
working pixel, labelled by stroke). ``align`` maps ``P`` onto ``Q``: a few iterations of a robust, two-way ICP
fitting an affine transform (kept near its start, so that a missing stroke cannot drag the rest away), then a
small per-stroke shift, as a writer's strokes are each a little off.

Everything is plain numpy on a few hundred points: no SciPy, no OpenCV. Images are decoded by
``data/preprocess.py``'s ``to_gray`` (the package's one decoder, with its guards); the work is bounded as
``inference/budget.py`` describes, and every loop checks an optional :class:`~.budget.Deadline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..data.preprocess import (
    MIN_CONTRAST,
    InvalidImageError,
    default_name,
    erase_guides,
    no_ink_message,
    to_gray,
)
from .budget import MAX_INK_POINTS, MAX_INPUT_POINTS, MAX_STROKES, NO_DEADLINE, Deadline

FRAME = 64.0  # working-frame size of the drawing's longest side, in working pixels
_MAX_SIDE = 384  # larger images are reduced first (speed; a character needs no more)
_MAX_POINTS = 450  # image ink points kept (a coarser grid beyond that)
REF_SPACING = 1.5  # working pixels between reference points


# The one error type for a drawing that cannot be diagnosed (unreadable, blank, too big): preprocess's.
InkError = InvalidImageError


# -- images → ink ---------------------------------------------------------------------------------------------
def decode(image, name: str | None = None) -> np.ndarray:
    """A path, bytes, PIL image or array → uint8 gray 2-D array (``preprocess.to_gray``: its format allow-list,
    size and pixel caps, 16-bit range; transparency on white paper), at least 8×8 pixels."""
    gray = image if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 2 \
        else to_gray(image, name)
    if min(gray.shape) < 8:
        name = name or default_name(image)
        what = f"{name}: " if name else ""
        raise InkError(f"{what}expected an image of at least 8×8 pixels, got {gray.shape[1]}×{gray.shape[0]}")
    return gray


def _otsu(values: np.ndarray) -> float:
    hist, edges = np.histogram(values, bins=64, range=(0.0, 256.0))
    p = hist.astype(np.float64) / max(hist.sum(), 1)
    centers = (edges[:-1] + edges[1:]) / 2
    w = np.cumsum(p)
    mu = np.cumsum(p * centers)
    between = (mu[-1] * w - mu) ** 2 / np.maximum(w * (1 - w), 1e-12)
    return float(edges[int(np.argmax(between)) + 1])


def ink_mask(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Gray image → (bool ink mask, scale of the mask relative to the input). Either polarity; uneven paper
    (photos, shading) is flattened against a coarse estimate of the paper brightness."""
    gray = np.asarray(gray, np.float32)
    h, w = gray.shape
    scale = min(1.0, _MAX_SIDE / max(h, w))
    if scale < 1.0:
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        gray = np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX), dtype=np.float32)
    lo, med, hi = np.percentile(gray, [0.2, 50, 99.8])  # ink may be under 1% of a big canvas
    if hi - med > med - lo:  # ink is the bright tail: light strokes on a dark ground
        gray = 255.0 - gray
        lo, med, hi = 255.0 - hi, 255.0 - med, 255.0 - lo
    if hi - lo < MIN_CONTRAST:
        raise InkError(no_ink_message(hi - lo))
    # paper brightness: the brightest values of a coarse grid, smoothed and stretched back to full size
    gh, gw = gray.shape
    cells = 8
    ys = np.linspace(0, gh, cells + 1).astype(int)
    xs = np.linspace(0, gw, cells + 1).astype(int)
    grid = np.array([[np.percentile(gray[ys[i]:ys[i + 1], xs[j]:xs[j + 1]], 90) for j in range(cells)]
                     for i in range(cells)], np.float32)
    paper = np.asarray(Image.fromarray(grid).resize((gw, gh), Image.Resampling.BILINEAR), np.float32)
    flat = gray / np.maximum(paper, 1.0) * 255.0
    flat = np.clip(flat, 0, 255).astype(np.float32)
    dark = 255.0 - flat  # guide lines (a practice grid) are erased as the model's input erases them
    clean = erase_guides(dark, float(dark.max()))
    if clean is not dark:
        flat = 255.0 - clean
    # Otsu splits dark from faint ink on scans with uneven pressure; faint strokes are still strokes, so the
    # threshold may rise toward the paper, as long as it stays clear of the paper's own noise
    thr = _otsu(flat)
    paper_px = flat[flat >= thr]
    noise = 1.4826 * float(np.median(np.abs(paper_px - np.median(paper_px)))) if paper_px.size else 0.0
    ink_level = float(np.percentile(flat, 0.5))
    faint = 255.0 - 0.3 * (255.0 - ink_level)
    thr = max(thr, min(faint, float(np.median(paper_px)) - 4.0 * noise - 8.0 if paper_px.size else thr))
    thr = min(thr, 235.0)
    mask = flat < thr
    # drop isolated specks (noise): an ink pixel needs two ink neighbours
    pad = np.pad(mask, 1)
    neigh = sum(pad[1 + dy:gh + 1 + dy, 1 + dx:gw + 1 + dx].astype(np.int8)
                for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
    mask &= neigh >= 2
    if mask.sum() < 4:
        raise InkError("no ink: only isolated specks, no strokes")
    if mask.mean() > 0.6:
        raise InkError(f"the image is {mask.mean():.0%} ink: not a drawing on paper")
    return mask, scale


@dataclass
class InkPoints:
    """The drawing as weighted points in the working frame. ``to_input`` maps working → input coordinates
    (x_in = x * to_input[0] + to_input[1], same for y with to_input[2])."""

    points: np.ndarray  # (m, 2) float32, x right, y down
    weights: np.ndarray  # (m,) stroke length (working pixels) each point stands for
    half_width: float  # the pen's half width in working pixels (0 for pen strokes)
    to_input: tuple[float, float, float]
    directions: np.ndarray | None = None  # (m, 2) unit tangents, pen strokes only
    # (m,) pen strokes only: the stroke each point lies on (from 0, in drawing order; empty strokes left out). The
    # points follow the pen: a stroke's points are consecutive, in the order drawn
    stroke_ids: np.ndarray | None = None


def drawing_from_image(image, name: str | None = None) -> InkPoints:
    """An image (anything ``decode`` takes; a uint8 2-D array is used as it is) → ink points."""
    gray = decode(image, name)
    mask, scale = ink_mask(gray)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = mask[y0:y1, x0:x1].astype(np.float32)
    k = FRAME / max(crop.shape)  # working pixels per mask pixel
    size = (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k)))
    resample = Image.Resampling.BOX if k < 1 else Image.Resampling.BILINEAR
    work = np.asarray(Image.fromarray(crop).resize(size, resample), np.float32)
    ink = work > (0.25 if k < 1 else 0.5)
    if not ink.any():
        ink = work >= work.max() * 0.5
    area = float(ink.sum())
    pad = np.pad(ink, 1)
    inner = pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
    boundary = float((ink & ~inner).sum())
    width = max(1.0, 2.0 * area / max(boundary, 1.0))
    py, px = np.nonzero(ink)
    step = 1
    while len(px) / step**2 > _MAX_POINTS:
        step += 1
    if step > 1:
        keep = (py % step == 0) & (px % step == 0)
        py, px = py[keep], px[keep]
    pts = np.stack([px, py], axis=1).astype(np.float32) + 0.5
    weights = np.full(len(pts), step**2 / width, np.float32)
    # working (x, y) → input pixel: mask pixel = x / k + x0; input pixel = mask pixel / scale
    to_input = (1.0 / (k * scale), x0 / scale, y0 / scale)
    return InkPoints(pts, weights, width / 2.0, to_input)


def _resample(line: np.ndarray, spacing: float) -> np.ndarray:
    line = np.asarray(line, np.float32).reshape(-1, 2)
    if len(line) < 2:
        return line.copy()
    seg = np.hypot(*np.diff(line, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] <= 1e-6:
        return line[:1].copy()
    n = max(2, int(np.ceil(arc[-1] / spacing)) + 1)
    t = np.linspace(0.0, float(arc[-1]), n)
    return np.stack([np.interp(t, arc, line[:, 0]), np.interp(t, arc, line[:, 1])], axis=1).astype(np.float32)


def _tangents(line: np.ndarray) -> np.ndarray:
    if len(line) < 2:
        return np.tile(np.array([[1.0, 0.0]], np.float32), (len(line), 1))
    g = np.gradient(line, axis=0)
    return (g / np.maximum(np.hypot(g[:, 0], g[:, 1]), 1e-6)[:, None]).astype(np.float32)


def stroke_arrays(strokes: Sequence) -> list[np.ndarray]:
    """Pen strokes as given (a list of strokes, each a list of [x, y] points or an (n, 2) array; y down, any unit)
    → float32 (n, 2) arrays, empty strokes left out. The one check of their structure (Python API and CLI; the
    service's schema checks its JSON first): InkError naming the first bad place as ``strokes.i.j`` (stroke
    ``i``, point ``j``, from 0) for anything else, no points at all, more than ``MAX_STROKES`` strokes or
    ``MAX_INPUT_POINTS`` points."""
    if len(strokes) > MAX_STROKES:
        raise InkError(f"{len(strokes)} strokes; a diagnosis takes at most {MAX_STROKES}")
    arrays = []
    for i, stroke in enumerate(strokes):
        try:
            a = np.asarray(stroke, np.float32)
        except (ValueError, TypeError):
            a = None
        if a is not None and a.shape == (0,):  # an empty stroke
            continue
        if a is None or a.ndim != 2 or a.shape[1] != 2 or not np.isfinite(a).all():
            raise InkError(f"malformed pen strokes: {_first_bad_point(stroke, i)}")
        if len(a):
            arrays.append(a)
    if not arrays:
        raise InkError("no ink: the strokes hold no points")
    if sum(len(a) for a in arrays) > MAX_INPUT_POINTS:
        raise InkError(f"{sum(len(a) for a in arrays):,} points; a diagnosis takes at most {MAX_INPUT_POINTS:,}")
    return arrays


def _first_bad_point(stroke, i: int) -> str:
    """Where stroke ``i`` (which numpy cannot read as (n, 2) finite numbers) goes wrong, and how."""
    if isinstance(stroke, (str, bytes)) or not isinstance(stroke, (Sequence, np.ndarray)):
        return f"strokes.{i}: expected a list of [x, y] points, got {_shown(stroke)}"
    for j, point in enumerate(stroke):
        if isinstance(point, (str, bytes)) or not isinstance(point, (Sequence, np.ndarray)) or len(point) != 2:
            return f"strokes.{i}.{j}: expected an [x, y] point, got {_shown(point)}"
        for c, v in enumerate(point):
            try:
                ok = np.isfinite(np.float32(v)) and not isinstance(v, (str, bytes))
            except (ValueError, TypeError):
                ok = False
            if not ok:
                return f"strokes.{i}.{j}.{c}: expected a finite number, got {_shown(v)}"
    return f"strokes.{i}: expected a list of [x, y] points"


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def drawing_from_strokes(strokes: Sequence) -> InkPoints:
    """Pen strokes (each (n, 2) x, y with y down, any unit) → points along the pen's path, 1 working px apart
    (farther apart when that would make more than ``MAX_INK_POINTS``: each point then stands for more length).

    Checked by :func:`stroke_arrays` (InkError naming a malformed point, too many strokes or points)."""
    arrays = stroke_arrays(strokes)
    allp = np.concatenate(arrays)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    extent = float(max(hi - lo))
    if not np.isfinite(extent):
        raise InkError("the stroke points span more than float32 can hold")
    k = FRAME / extent if extent > 0 else 1.0
    scaled = [(a - lo) * k for a in arrays]
    length = sum(float(np.hypot(*np.diff(a, axis=0).T).sum()) for a in scaled if len(a) > 1)
    # bounded work, however long or zigzag the pen's path: a stroke gets at most its length / spacing + 2 points,
    # so the total stays within MAX_INK_POINTS (> 2 × MAX_STROKES)
    spacing = max(1.0, length / (MAX_INK_POINTS - 2 * len(scaled)))
    lines = [_resample(a, spacing) for a in scaled]
    pts = np.concatenate(lines)
    dirs = np.concatenate([_tangents(ln) for ln in lines])
    ids = np.concatenate([np.full(len(ln), i, np.int32) for i, ln in enumerate(lines)])
    return InkPoints(pts, np.full(len(pts), spacing, np.float32), 0.0, (1.0 / k, float(lo[0]), float(lo[1])), dirs,
                     ids)


# -- the reference ----------------------------------------------------------------------------------------------
@dataclass
class Reference:
    """Reference medians as points (working frame of the reference), ``labels`` = stroke index per point."""

    points: np.ndarray
    labels: np.ndarray
    directions: np.ndarray
    n_strokes: int
    components: tuple[tuple[int, ...], ...] = ()  # groups of strokes a writer moves together


def components(lines: Sequence[np.ndarray], rad_strokes: Sequence[int] = (), grow: float = 2.0) -> list[list[int]]:
    """The radical's strokes, and the other strokes clustered by touching (slightly grown) bounding boxes."""
    n = len(lines)
    rad = sorted(i for i in set(rad_strokes) if 0 <= i < n)
    groups = [rad] if rad and len(rad) < n else []
    rest = [i for i in range(n) if i not in set(rad)] if groups else list(range(n))
    boxes = {i: (lines[i].min(axis=0) - grow, lines[i].max(axis=0) + grow) for i in rest}
    cluster = {i: i for i in rest}
    for a in rest:
        for b in rest:
            if a < b and np.all(boxes[a][0] <= boxes[b][1]) and np.all(boxes[b][0] <= boxes[a][1]):
                old, new = cluster[b], cluster[a]
                for i in rest:
                    if cluster[i] == old:
                        cluster[i] = new
    for c in sorted(set(cluster.values())):
        groups.append([i for i in rest if cluster[i] == c])
    return groups


def reference_points(medians: Sequence[np.ndarray], rad_strokes: Sequence[int] = ()) -> Reference:
    """Medians (1024-box image coordinates) scaled so the character's longest side spans FRAME, REF_SPACING apart."""
    allp = np.concatenate([np.asarray(m, np.float32) for m in medians])
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    k = FRAME / max(float(max(hi - lo)), 1.0)
    lines = [_resample((np.asarray(m, np.float32) - lo) * k, REF_SPACING) for m in medians]
    labels = np.concatenate([np.full(len(ln), i, np.int32) for i, ln in enumerate(lines)])
    dirs = np.concatenate([_tangents(ln) for ln in lines])
    comps = components(lines, rad_strokes)
    return Reference(np.concatenate(lines), labels, dirs, len(lines), tuple(tuple(c) for c in comps))


# -- alignment -------------------------------------------------------------------------------------------------
def sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise squared distances (len(a), len(b))."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


@dataclass
class Alignment:
    """Per stroke ``s``: ``A[s]`` (2×2) and ``t[s]`` map its reference points into the working frame (the whole
    character's transform, refined per component), plus a small ``shifts[s]``."""

    A: np.ndarray  # (n, 2, 2)
    t: np.ndarray  # (n, 2)
    shifts: np.ndarray  # (n, 2)
    whole: tuple[np.ndarray, np.ndarray]  # the whole character's (A, t), before components and strokes

    def apply(self, ref: Reference) -> np.ndarray:
        A = self.A[ref.labels]
        out = np.einsum("nij,nj->ni", A, ref.points) + self.t[ref.labels] + self.shifts[ref.labels]
        return out.astype(np.float32)


def _bbox_init(ref_pts: np.ndarray, drawing: InkPoints) -> tuple[np.ndarray, np.ndarray]:
    rlo, rhi = ref_pts.min(axis=0), ref_pts.max(axis=0)
    h = drawing.half_width
    dlo, dhi = drawing.points.min(axis=0) + h * 0.5, drawing.points.max(axis=0) - h * 0.5
    rs = np.maximum(rhi - rlo, 1.0)
    ds = np.maximum(dhi - dlo, 1.0)
    s = ds / rs
    # a stroke-thin side (一, 丨) keeps the other side's scale
    if rs[0] < 8 or ds[0] < 8:
        s[0] = s[1]
    if rs[1] < 8 or ds[1] < 8:
        s[1] = s[0]
    A = np.diag(s).astype(np.float64)
    t = (dlo + dhi) / 2 - A @ ((rlo + rhi) / 2)
    return A, t


def _fit_affine(src: np.ndarray, dst: np.ndarray, w: np.ndarray, A0: np.ndarray, t0: np.ndarray,
                ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares affine src → dst, with a ridge pulling the linear part toward A0; ``ridge`` is the
    prior's weight relative to the data (so a lone horizontal stroke cannot pick an arbitrary height or shear)."""
    W = float(w.sum())
    if W < 1e-6:
        return A0, t0
    src = src.astype(np.float64)
    dst = dst.astype(np.float64)
    m = (src * w[:, None]).sum(0) / W
    c = src - m
    spread = float((w * (c * c).sum(1)).sum()) / 2.0  # per axis, on average
    mu = ridge * max(spread, W)
    G = (c * w[:, None]).T @ c + np.eye(2) * mu
    rhs = (c * w[:, None]).T @ dst + mu * A0.T  # column r: row r of A
    A = np.linalg.solve(G, rhs).T
    t = (w[:, None] * dst).sum(0) / W - A @ m
    return A, t


def _icp(P: np.ndarray, drawing: InkPoints, A0: np.ndarray, t0: np.ndarray, iterations: int,
         ridge: float, deadline: Deadline = NO_DEADLINE) -> tuple[np.ndarray, np.ndarray, float]:
    """Robust two-way ICP from (A0, t0); returns A, t and the final truncated two-way distance."""
    Q = drawing.points
    wq = drawing.weights
    h = drawing.half_width
    A, t = A0.copy(), t0.copy()
    for it in range(iterations + 1):
        deadline.check()
        tau = 12.0 + (4.0 - 12.0) * min(it / max(iterations - 1, 1), 1.0)
        Pt = (P @ A.T + t).astype(np.float32)
        D = sqdist(Pt, Q)
        iq = D.argmin(axis=1)
        dp = np.sqrt(D[np.arange(len(P)), iq])
        ip = D.argmin(axis=0)
        dq = np.maximum(np.sqrt(D[ip, np.arange(len(Q))]) - h, 0.0)
        if it == iterations:
            cost = float(np.minimum(dp, 6.0).mean() + (wq * np.minimum(dq, 6.0)).sum() / wq.sum())
            return A, t, cost
        wp = np.clip(1 - (dp / tau) ** 2, 0, None) ** 2
        wqq = wq * np.clip(1 - (dq / tau) ** 2, 0, None) ** 2
        # ink points pull their nearest reference point toward the pen's centre line, not its edge
        target_q = Q
        if h > 0:
            v = Pt[ip] - Q
            n = np.maximum(np.hypot(v[:, 0], v[:, 1]), 1e-6)
            target_q = Q + v * (np.minimum(n, h) / n)[:, None]
        src = np.concatenate([P, P[ip]])
        dst = np.concatenate([Q[iq], target_q])
        A, t = _fit_affine(src, dst, np.concatenate([wp, wqq]), A0, t0, ridge)
    raise AssertionError("unreachable")


SLANTS = (0.0, -0.3, 0.3)  # shears tried as starts for the whole character (handwriting leans)


def _sheared(A: np.ndarray, t: np.ndarray, P: np.ndarray, shear: float) -> tuple[np.ndarray, np.ndarray]:
    """Start (A, t) with an extra shear x += shear·y about the points' centre."""
    c = P.mean(axis=0)
    S = np.array([[1.0, shear], [0.0, 1.0]])
    A2 = S @ A
    return A2, (A @ c + t) - A2 @ c


def align(ref: Reference, drawing: InkPoints, keep: np.ndarray | None = None, iterations: int = 12,
          ridge: float = 0.05, local_shift: float = 5.0, near: Alignment | None = None,
          deadline: Deadline = NO_DEADLINE) -> Alignment:
    """Robust two-way ICP of the reference (strokes where ``keep`` is True) onto the drawing, then each
    component's own affine and a small shift per stroke. Starts: the kept strokes' box fitted to the ink's box,
    sheared by each of ``SLANTS`` (only unsheared with ``near``); with ``keep``, also ``near``'s transform (the
    full alignment: right when the left-out stroke is drawn after all), or else the whole character's box."""
    keep_pts = np.ones(len(ref.points), bool) if keep is None else keep[ref.labels]
    P = ref.points[keep_pts]
    Q = drawing.points
    A0, t0 = _bbox_init(P, drawing)
    starts = [_sheared(A0, t0, P, s) for s in SLANTS] if near is None else [(A0, t0)]
    if near is not None:
        starts.append(near.whole)
    elif keep is not None and not keep_pts.all():
        starts.append(_bbox_init(ref.points, drawing))
    A, t, _ = min((_icp(P, drawing, A0, t0, iterations, ridge, deadline) for A0, t0 in starts),
                  key=lambda r: r[2])
    n = ref.n_strokes
    As = np.repeat(A[None], n, axis=0)
    ts = np.repeat(t[None], n, axis=0)
    kept = np.ones(n, bool) if keep is None else keep
    for comp in ref.components if len(ref.components) > 1 else ():
        members = [s for s in comp if kept[s]]
        if not members:
            continue
        sel = np.isin(ref.labels, members)
        Pc = ref.points[sel]
        if len(Pc) < 6:
            continue
        deadline.check()
        Ac, tc = _refine_component(Pc, Q, A, t)
        As[list(comp)] = Ac
        ts[list(comp)] = tc
    shifts = np.zeros((n, 2))
    if local_shift > 0:  # every stroke, kept or not, may move a little toward its own ink
        labels = ref.labels
        Pt = np.einsum("nij,nj->ni", As[labels], ref.points) + ts[labels]
        for _ in range(2):
            deadline.check()
            Ps = (Pt + shifts[labels]).astype(np.float32)
            D = sqdist(Ps, Q)
            iq = D.argmin(axis=1)
            res = Q[iq] - Ps
            dp = np.hypot(res[:, 0], res[:, 1])
            wp = np.clip(1 - (dp / 6.0) ** 2, 0, None) ** 2
            for k in range(n):
                sel = labels == k
                ws = wp[sel]
                if ws.sum() < 0.5 * sel.sum():  # most of the stroke has no ink near: leave it where it is
                    continue
                move = (res[sel] * ws[:, None]).sum(0) / ws.sum()
                new = shifts[k] + move
                norm = float(np.hypot(*new))
                shifts[k] = new if norm <= local_shift else new * (local_shift / norm)
    return Alignment(As, ts, shifts, (A, t))


def _refine_component(P: np.ndarray, Q: np.ndarray, A: np.ndarray, t: np.ndarray, iterations: int = 4,
                      tau: float = 5.0, ridge: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """A component's own affine, near the character's: its points pulled to the nearest ink (one way, so the
    ink of other components cannot drag it)."""
    Ac, tc = A.copy(), t.copy()
    for _ in range(iterations):
        Pt = (P @ Ac.T + tc).astype(np.float32)
        D = sqdist(Pt, Q)
        iq = D.argmin(axis=1)
        dp = np.sqrt(D[np.arange(len(P)), iq])
        wp = np.clip(1 - (dp / tau) ** 2, 0, None) ** 2
        if wp.sum() < 0.3 * len(P):  # the component has little ink near: keep the character's transform
            return A, t
        Ac, tc = _fit_affine(P, Q[iq], wp, A, t, ridge)
    return Ac, tc
