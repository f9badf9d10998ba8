"""The one preprocessing function shared by training and inference: any image → float32 [40, 40] model input.

Output: 1.0 = paper, 0.0 = the darkest ink; ink cropped, centred in a square with a small margin, aspect kept.
Steps: decode to a 2-D uint8 array (composite transparency on white) → find the paper level and the polarity
(from the border when it is uniform, else from the image's majority; uneven lighting divided out first) →
darkness = how far below paper a pixel is → guide lines lighter than the ink (a practice grid) erased → a noise
floor → bounding box of the ink (isolated specks ignored) → square pad, anti-aliased resize → darkest
ink to 0 → refuse a lone blot (a dot or a short dash blown up to the whole box: no strokes to read). A uint8 2-D
array (what readers and the synthesiser yield) takes the fast path: no PIL decode.

Decoding (``to_gray``) is the one image decoder of the package (classification, verification and diagnosis):
files must be regular files of at most ``MAX_FILE_BYTES``, checked before reading; only ``ALLOWED_FORMATS`` are
decoded (never EPS/PostScript and the other formats Pillow would hand to outside programs); animated images
(GIF, APNG, multi-page TIFF) are refused; 16-bit greyscale keeps its full range.
"""

from __future__ import annotations

import functools
import io
import math
import os
import stat
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SIZE = 40
PREPROCESS_VERSION = 1
MARGIN = 2  # pixels of paper kept around the ink at 40×40
MAX_PIXELS = 40_000_000  # larger inputs are refused (decompression bombs)
MAX_WORK_SIDE = 512  # bigger images are box-reduced first: the output is 40×40 anyway
MIN_CONTRAST = 24  # grey levels between paper and the darkest ink below which there is no ink
NOISE_FLOOR = 0.15  # darkness below this fraction of the contrast counts as paper (paper tone, noise, JPEG)
MAX_FILE_BYTES = 64 * 1024 * 1024  # image files larger than this are refused before reading
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")  # Pillow format ids decoded; nothing else
# Erosions of the 40×40 input's ink (< 0.5) at which it is one blot, not strokes: about half the thickest stroke
# in pixels. Real characters reach at most 4 (Chinese MNIST), the brush font and wide-pen draws of the cursive dev
# set 8; a tapped dot 18, a dash up to twice as long as it is thick 10 or more. Blown up to the box, such a blot
# read as 睡 or 高 with 80–90 % confidence.
BLOT_DEPTH = 10
BLOT_MESSAGE = "no strokes: the ink is one dot or blot, too thick for its size to be a character"
# Uneven lighting (a photo's shadow or a gradient across the paper) is divided out before anything else: the
# paper's brightness is read on a FLAT_CELLS × FLAT_CELLS grid, a plane is fitted to it (and refitted without the
# cells PAPER_OUTLIER grey levels darker than it: they hold ink), and the image is divided by the plane when it
# varies by more than UNEVEN_PAPER grey levels over the image. Only where the border is that uneven to begin with:
# an image on even paper (every canvas, scan and training sample here) is left exactly as it is.
FLAT_CELLS = 8
UNEVEN_PAPER = 32
PAPER_OUTLIER = 24
# Guide lines drawn into the image (a practice grid: 田字格, 米字格, a frame, ruled lines) lighter than the ink are
# erased before the ink is cropped. A row or a column (or, in a square image where a row or a column was one, a
# corner-to-corner diagonal) is a guide when: ink of at most GUIDE_TONE of the darkest ink's darkness covers at
# least GUIDE_DENSITY of its length (dashes too) from end to end (GUIDE_SPAN); it is at most GUIDE_WIDTH of the
# image thick; it has paper on both sides along at least GUIDE_OPEN of its length (not where strokes cross it or
# run along it); and its median darkness there is at most GUIDE_TONE of the darkest ink's. Its pixels lighter than
# midway between its tone and the darkest ink become paper; ink crossing it stays. A guide about as dark as the ink
# is not told apart from a long thin stroke, nor one touching a stroke along much of its length: both stay.
GUIDE_DENSITY = 0.25
GUIDE_SPAN = 0.9
GUIDE_WIDTH = 0.025
GUIDE_OPEN = 0.2
GUIDE_TONE = 0.5
# A photo taken askew turns the guides: rows (and columns) sheared by up to GUIDE_TILT degrees are read too, at
# the slope whose lines hold more guide-toned ink than any straight row (column) holds, if one does; slopes step
# by an eighth of a guide's width (at least half a pixel) over the image, so a turned guide still fits its
# width: 14 slopes at 64 px, 28 at 128, 54 at 256, 37 at 512.
GUIDE_TILT = 3.0
NEGATIVE_TOLERANCE = -0.01  # numpy pixel values below this are refused (float round-off above it is clipped)


class InvalidImageError(ValueError):
    """The input cannot be turned into a model input (not an image, truncated, empty, too large, no ink)."""


class _NoInk(Exception):
    """A readable image without strokes (blank paper, or only noise)."""


def no_ink_message(contrast: float) -> str:
    """What every ink check says of an image under ``MIN_CONTRAST`` (this module's and diagnosis' ``align``)."""
    return f"no ink: the image is blank or too faint (contrast {contrast:.0f} of 255 grey levels)"


def preprocess(image: Any, allow_blank: bool = False, name: str | None = None) -> np.ndarray:
    """Any image → float32 [40, 40] in [0, 1], dark strokes (0) on light paper (1), cropped, centred, aspect kept.

    ``image``: a path (str/Path), encoded bytes, a PIL image or a numpy array (2-D, or H×W×1/2/3/4; uint8, other
    integers, bool or float in [0, 1] or [0, 255]). Raises ``InvalidImageError`` when it is not a readable image,
    has no pixels, is over 40 megapixels, or holds no ink. ``allow_blank=True`` (training data, where a rare blank
    sample must not stop a run) returns plain paper (all ones) for an image without ink instead. ``name``: what
    error messages call the image (default: the path, "the given bytes", ...).
    """
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 2:
        gray = image  # fast path: readers and the synthesiser
        _check_size(gray.shape[1], gray.shape[0])
    else:
        gray = to_gray(image, name)
    if max(gray.shape) > MAX_WORK_SIDE:
        gray = _shrink(gray)
    try:
        return _normalise(gray)
    except _NoInk as e:
        if allow_blank:
            return np.ones((IMAGE_SIZE, IMAGE_SIZE), np.float32)
        what = name or default_name(image)
        raise InvalidImageError(f"{what}: {e}" if what else str(e)) from None


def preprocess_batch(images: Iterable[Any]) -> np.ndarray:
    """Preprocess each image: float32 [N, 40, 40, 1] (the model's input layout).

    A numpy array is read as a batch along its first axis."""
    out = [preprocess(im) for im in images]
    if not out:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
    return np.stack(out)[..., None]


# ---------------------------------------------------------------- decoding


def to_gray(image: Any, name: str | None = None) -> np.ndarray:
    """Any accepted input → uint8 2-D grayscale, transparency composited on white (the package's one decoder).

    ``name``: what error messages call the image (default: the path, "the given bytes", "the PIL image")."""
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        what = name or str(path)
        return _decode(read_regular_file(path, MAX_FILE_BYTES, InvalidImageError, what), what)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _decode(bytes(image), name or "the given bytes")
    if isinstance(image, Image.Image):
        _check_size(*image.size)
        return _pil_to_gray(image, name or "the PIL image")
    if isinstance(image, np.ndarray):
        return _array_to_gray(image)
    raise InvalidImageError(f"cannot read an image from a {type(image).__name__}: give a path, bytes, a PIL image "
                            "or a numpy array")


def default_name(image: Any) -> str | None:
    """What an error message calls ``image`` when the caller gives no name: its path, "the given bytes", or None."""
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return "the given bytes"
    return None


def read_regular_file(path: str | os.PathLike, max_bytes: int, error: type[Exception] = ValueError,
                      what: str | None = None) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes``; ``error`` (naming the file)
    otherwise. Checked on the opened file before reading: a FIFO, a device (/dev/zero) or a folder fails at once."""
    what = what or str(path)
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not wait; it is refused just below
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise error(f"{what}: cannot read it ({e.strerror or e})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise error(f"{what}: {kind}; give a file")
        if info.st_size > max_bytes:
            raise error(f"{what}: {info.st_size:,} bytes, over the limit of {max_bytes:,}")
        chunks, size = [], 0
        while size <= max_bytes:  # read to the end, never past the limit (the file may grow meanwhile)
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise error(f"{what}: over the limit of {max_bytes:,} bytes")
        return b"".join(chunks)
    except OSError as e:
        raise error(f"{what}: cannot read it ({e.strerror or e})") from None
    finally:
        os.close(fd)


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise InvalidImageError(f"the image is empty ({width}×{height} pixels)")
    if width * height > MAX_PIXELS:
        raise InvalidImageError(f"the image is too large ({width}×{height} = {width * height / 1e6:.0f} megapixels; "
                                f"the limit is {MAX_PIXELS / 1e6:.0f}): scale it down first")


def _decode(data: bytes, what: str) -> np.ndarray:
    if not data:
        raise InvalidImageError(f"{what}: empty file, not an image")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            _check_size(*im.size)
            if getattr(im, "is_animated", False):
                raise InvalidImageError(f"an animated {im.format} ({getattr(im, 'n_frames', 'several')} frames): "
                                        "send a single still image")
            im.load()
        except InvalidImageError as e:
            raise InvalidImageError(f"{what}: {e}") from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
            raise InvalidImageError(f"{what}: the image is too large (decompression bomb guard): {e}") from e
        except UnidentifiedImageError:
            raise InvalidImageError(f"{what} is not an image in a format hanzicheck reads "
                                    f"({', '.join(ALLOWED_FORMATS)})") from None
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as e:
            raise InvalidImageError(f"{what}: cannot decode the image (truncated or corrupt?): "
                                    f"{_no_repr(str(e))}") from None
    return _pil_to_gray(im, what)


def _no_repr(text: str) -> str:
    """Pillow's messages name the stream they read (``<_io.BytesIO object at 0x…>``): drop that."""
    import re

    return re.sub(r"\s*<[\w.]+ object at 0x[0-9a-fA-F]+>", "", text)


def _pil_to_gray(im: Image.Image, what: str) -> np.ndarray:
    try:
        if im.mode.startswith("I;16"):  # 16-bit greyscale: its full range, whatever the largest value present
            return np.rint(np.asarray(im, dtype=np.float64) * (255.0 / 65535.0)).astype(np.uint8)
        if im.mode == "P":
            im = im.convert("RGBA") if "transparency" in im.info else im.convert("L")
        if im.mode in ("I;16", "I;16L", "I;16B", "I", "F"):
            return _array_to_gray(np.asarray(im, dtype=np.float64))
        if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
            return _array_to_gray(np.asarray(im.convert("RGBA")))
        return np.asarray(im.convert("L"), dtype=np.uint8)
    except (OSError, ValueError) as e:
        raise InvalidImageError(f"{what}: cannot convert the {im.mode} image to grayscale: {e}") from e


def _array_to_gray(a: np.ndarray) -> np.ndarray:
    if a.ndim == 3 and a.shape[2] in (1, 2, 3, 4):
        pass
    elif a.ndim != 2:
        raise InvalidImageError(f"a numpy image must be H×W or H×W×1/2/3/4, got shape {a.shape}")
    _check_size(a.shape[1], a.shape[0])
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise InvalidImageError(f"numpy image of dtype {a.dtype}: use uint8 or float")
    x = a.astype(np.float32)
    if not np.isfinite(x).all():
        raise InvalidImageError("the numpy image holds NaN or infinite values")
    top = float(x.max()) if x.size else 0.0
    low = float(x.min()) if x.size else 0.0
    if low < NEGATIVE_TOLERANCE:  # mean-subtracted or signed data would be clipped to black and read as "no ink"
        raise InvalidImageError(f"numpy image values must be 0–1 (float) or 0–255, got a minimum of {low:g}: "
                                "rescale normalised or signed data first")
    if np.issubdtype(a.dtype, np.floating) and top <= 1.0:
        x = x * 255.0
    elif top > 255.0:  # 16-bit and other wide integer ranges
        x = x * (255.0 / (65535.0 if top <= 65535 else top))
    if x.ndim == 3:
        c = x.shape[2]
        alpha = x[..., -1] if c in (2, 4) else None
        if alpha is not None:  # composite on white paper
            x = x[..., :-1] * (alpha[..., None] / 255.0) + 255.0 * (1.0 - alpha[..., None] / 255.0)
        x = x[..., 0] if x.shape[2] == 1 else x @ np.array([0.299, 0.587, 0.114], np.float32)
        if alpha is not None and np.ptp(x) < MIN_CONTRAST <= np.ptp(alpha):
            x = 255.0 - alpha  # light strokes on a transparent canvas: the alpha channel is the drawing
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _shrink(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    scale = MAX_WORK_SIDE / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    # one axis at a time, the width first: the same two passes, with the same rounding between them, whatever
    # Pillow's version (Pillow 13 reduces first the height when it shrinks much more than the width), and the
    # passes preprocess.js makes
    im = Image.fromarray(gray)
    if nw != w:
        im = im.resize((nw, h), Image.Resampling.BOX)
    if nh != h:
        im = im.resize((nw, nh), Image.Resampling.BOX)
    return np.asarray(im, dtype=np.uint8)


# ---------------------------------------------------------------- normalising


def _normalise(gray: np.ndarray) -> np.ndarray:
    paper, inverted = _paper_level(gray)
    # dark ink on paper: a photo's uneven lighting is divided out. A deep shadow can make the page look like light
    # ink on dark paper (the border half shadow, the image's majority dark): then the flattened page is taken
    # only when it reads as dark ink on paper; a page that still reads inverted is left as it was
    flat = flatten_paper(gray)
    if flat is not gray:
        flat_paper, flat_inverted = _paper_level(flat)
        if not inverted or not flat_inverted:
            gray, paper, inverted = flat, flat_paper, flat_inverted
    g = gray.astype(np.float32)
    dark = (g - paper) if inverted else (paper - g)  # how far each pixel is from paper, towards ink
    contrast = float(dark.max())
    if contrast < MIN_CONTRAST:
        raise _NoInk(no_ink_message(contrast))
    dark = erase_guides(dark, contrast)
    floor = NOISE_FLOOR * contrast
    dark = np.clip((dark - floor) * (1.0 / (contrast - floor)), 0.0, 1.0)
    # every stroke above the noise floor counts, faint ones too (a scan's light strokes must not be cropped off)
    box = _ink_box(dark > 0.05)
    if box is None:
        raise _NoInk("no ink: only isolated specks, no strokes")
    y0, y1, x0, x1 = box
    crop = dark[y0:y1, x0:x1]
    h, w = crop.shape
    side = max(h, w)
    square = np.zeros((side, side), np.float32)
    oy, ox = (side - h) // 2, (side - w) // 2
    square[oy:oy + h, ox:ox + w] = crop
    inner = IMAGE_SIZE - 2 * MARGIN
    # Pillow's resize filters scale their support with the reduction factor, so downsizing is anti-aliased.
    resized = Image.fromarray(square).resize((inner, inner), Image.Resampling.BILINEAR)
    small = np.frombuffer(resized.tobytes(), np.float32).reshape(inner, inner)
    top = float(small.max())
    out = np.ones((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    if top > 0:
        out[MARGIN:MARGIN + inner, MARGIN:MARGIN + inner] = 1.0 - np.clip(small * (1.0 / top), 0.0, 1.0)
    if ink_depth(out) >= BLOT_DEPTH:
        raise _NoInk(BLOT_MESSAGE)
    return out


def ink_depth(x: np.ndarray, cap: int = BLOT_DEPTH) -> int:
    """How many erosions (4-neighbour) the ink (< 0.5) of a model input survives, counted up to ``cap``.

    Each erosion also drops the array's outer ring: with the input's paper margin those pixels are eroded anyway, so
    the count is the plain erosion's (``preprocess.js`` erodes in place), in a few array operations."""
    m = x < 0.5
    k = 0
    while k < cap and m.any():
        m = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
        k += 1
    return k


def _paper_level(gray: np.ndarray) -> tuple[float, bool]:
    """(paper grey level, True when the ink is lighter than the paper).

    The paper is the border's median when the border is uniform (most of it on one side of the mid-grey between
    the image's extremes); otherwise (ink touching the edges) the majority of the whole image."""
    cum = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    n = int(cum[-1])
    tail = max(1, n // 200)
    lo = int(np.searchsorted(cum, tail))  # robust extremes: the 0.5 % and 99.5 % quantiles
    hi = int(np.searchsorted(cum, n - tail + 1))
    mid = (lo + hi) / 2.0
    if gray.shape[0] > 2 and gray.shape[1] > 2:
        border = _border(gray)
        light = float(np.count_nonzero(border > mid)) / border.size
        if light >= 0.8 or light <= 0.2:
            bcum = np.cumsum(np.bincount(border, minlength=256))
            paper = float(np.searchsorted(bcum, (border.size + 1) // 2))  # the border's median
            return paper, paper < mid
    median = float(np.searchsorted(cum, (n + 1) // 2))
    return median, median < mid


def _border(gray: np.ndarray) -> np.ndarray:
    """The image's outermost pixels: top row, bottom row, then the left and right columns between them."""
    return np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])


def flatten_paper(gray: np.ndarray) -> np.ndarray:
    """Dark ink on unevenly lit paper → the same on even paper (uint8): the image divided by the plane fitted to
    the paper's brightness (``_paper_plane``), times the plane's brightest value. ``gray`` itself (the same
    object) when the border's 10th and 90th percentile greys lie within ``UNEVEN_PAPER`` of each other, when the
    image is smaller than two pixels a cell, or when no plane varying by more than that fits the paper."""
    h, w = gray.shape
    if min(h, w) < 2 * FLAT_CELLS:
        return gray
    border = _border(gray)
    bcum = np.cumsum(np.bincount(border, minlength=256))
    n = border.size
    spread = int(np.searchsorted(bcum, n - n // 10)) - int(np.searchsorted(bcum, max(1, n // 10)))
    if spread <= UNEVEN_PAPER:
        return gray
    fit = _paper_plane(gray)
    if fit is None:
        return gray
    a, b, c = fit
    corners = (a, a + b * (w - 1), a + c * (h - 1), a + b * (w - 1) + c * (h - 1))
    if max(corners) - min(corners) <= UNEVEN_PAPER:
        return gray
    plane = np.maximum(a + b * np.arange(w, dtype=np.float64)[None, :] + c * np.arange(h, dtype=np.float64)[:, None],
                       1.0)
    flat = np.floor(gray * (max(corners) / plane) + 0.5)
    return np.clip(flat, 0, 255).astype(np.uint8)


def _paper_plane(gray: np.ndarray) -> tuple[float, float, float] | None:
    """(a, b, c) of the paper's brightness a + b·x + c·y (x, y: pixel column and row), fitted to the 90th
    percentile grey of each of FLAT_CELLS² cells (read on at most about 8 × 8 of its pixels) and refitted, up to
    three times, without the cells more than PAPER_OUTLIER darker than the plane (they hold ink); None when fewer
    than half the cells are paper."""
    h, w = gray.shape
    bh, bw = h // FLAT_CELLS, w // FLAT_CELLS
    cells = gray[:bh * FLAT_CELLS, :bw * FLAT_CELLS].reshape(FLAT_CELLS, bh, FLAT_CELLS, bw)
    cells = cells[:, ::max(1, bh // 8), :, ::max(1, bw // 8)].transpose(0, 2, 1, 3).reshape(FLAT_CELLS ** 2, -1)
    k = 9 * (cells.shape[1] - 1) // 10
    v = np.partition(cells, k, axis=1)[:, k].astype(np.float64)
    cy = np.repeat(np.arange(FLAT_CELLS) * bh + (bh - 1) / 2.0, FLAT_CELLS)
    cx = np.tile(np.arange(FLAT_CELLS) * bw + (bw - 1) / 2.0, FLAT_CELLS)
    keep = np.ones(v.size, bool)
    fit = None
    for _ in range(3):
        if 2 * int(keep.sum()) < v.size:
            return None
        fit = _fit_plane(cx[keep], cy[keep], v[keep])
        if fit is None:
            return None
        a, b, c = fit
        now = v - (a + b * cx + c * cy) > -PAPER_OUTLIER
        if (now == keep).all():
            break
        keep = now
    return fit


def _fit_plane(x: np.ndarray, y: np.ndarray, v: np.ndarray) -> tuple[float, float, float] | None:
    """Least squares a + b·x + c·y ≈ v, by Cramer's rule on the normal equations (``preprocess.js`` does the same
    operations: the sums are exact, x and y being half-integers and v integers)."""
    n, sx, sy = float(len(x)), float(x.sum()), float(y.sum())
    sxx, sxy, syy = float((x * x).sum()), float((x * y).sum()), float((y * y).sum())
    sv, sxv, syv = float(v.sum()), float((x * v).sum()), float((y * v).sum())
    det = n * (sxx * syy - sxy * sxy) - sx * (sx * syy - sxy * sy) + sy * (sx * sxy - sxx * sy)
    if det == 0.0:
        return None
    da = sv * (sxx * syy - sxy * sxy) - sx * (sxv * syy - sxy * syv) + sy * (sxv * sxy - sxx * syv)
    db = n * (sxv * syy - syv * sxy) - sv * (sx * syy - sxy * sy) + sy * (sx * syv - sxv * sy)
    dc = n * (sxx * syv - sxy * sxv) - sx * (sx * syv - sxv * sy) + sv * (sx * sxy - sxx * sy)
    return da / det, db / det, dc / det


def erase_guides(dark: np.ndarray, contrast: float) -> np.ndarray:
    """Darkness (0 = paper, ``contrast`` = the darkest ink; float32 holding whole numbers) → the same with guide
    lines set to paper (see ``GUIDE_DENSITY``); ``dark`` itself (the same object) when there is none. Rows and
    columns, straight and turned (``GUIDE_TILT``), are read on the unerased image, and so are the two diagonals of
    a square image where a row or a column was a guide (a 米字格's diagonals come with its cross)."""
    lo = math.floor(NOISE_FLOOR * contrast) + 1  # darker than the noise floor: ink (or a guide)
    h, w = dark.shape
    width = max(3, math.floor(GUIDE_WIDTH * min(h, w) + 0.5))
    ink = dark >= lo
    light = ink & (dark <= GUIDE_TONE * contrast)  # ink of a guide's tone
    lit = light.astype(np.float32)  # counted by products with ones: a third of the time of two sums
    rows = _lines_in(dark, ink, light, lit @ np.ones(w, np.float32), contrast, width, True)
    cols = _lines_in(dark.T, ink.T, light.T, np.ones(h, np.float32) @ lit, contrast, width, True)
    # (flat pixel indices of a guide and of a line each side of it, the darkness up to which they are erased)
    found = []
    for transposed in (False, True):  # rows (columns) turned, as in a photo taken askew
        strips = _tilted(light.T if transposed else light, width, transposed)
        if strips is not None:
            found += _guides_along(dark, strips, lo, contrast, width + 1, True, turned=True)  # + 1: rounding
    if rows or cols:
        index = np.arange(h * w).reshape(h, w)
        found += [(index[max(0, i - 1):j + 2].ravel(), cut) for i, j, cut in rows]
        found += [(index.T[max(0, i - 1):j + 2].ravel(), cut) for i, j, cut in cols]
    if not found:
        return dark
    if abs(h - w) <= 2 and h >= 16:  # a square cell's diagonals, read as strips of pixels one column apart
        for strips in _diagonals(h, w, width):
            found += _guides_along(dark, strips, lo, contrast, width + 1, False)
    out = dark.copy()
    for pixels, cut in found:
        px = out.ravel()[pixels]
        out.ravel()[pixels] = np.where(px <= cut, 0.0, px)
    return out


def _guides_along(dark: np.ndarray, strips: np.ndarray, lo: float, contrast: float, width: int,
                  edge_is_paper: bool, turned: bool = False) -> list[tuple[np.ndarray, float]]:
    """The guides among lines of pixels given by flat indices (``strips``: line × position, −1 outside the image,
    read as paper): (the flat indices of each and of a line either side, the darkness up to which they are
    erased). ``turned``: the strips are a turned guide's sheared rows (``_lines_in``'s ``inside``)."""
    lines = dark.ravel()[strips]
    lines[strips < 0] = 0.0
    on = lines >= lo
    faint = on & (lines <= GUIDE_TONE * contrast)
    counts = faint.view(np.uint8).sum(axis=1, dtype=np.int32)
    found = []
    inside = np.count_nonzero(strips >= 0, axis=1) if turned else None
    for i, j, cut in _lines_in(lines, on, faint, counts, contrast, width, edge_is_paper, inside):
        pixels = strips[max(0, i - 1):j + 2].ravel()
        found.append((pixels[pixels >= 0], cut))
    return found


def _tilted(light: np.ndarray, width: int, transposed: bool) -> np.ndarray | None:
    """Rows of ``light`` (an image's guide-toned ink; the transposed image's for its columns) sheared by the
    slope, among ±``GUIDE_TILT`` degrees, whose lines hold the most of it, as strips of flat indices into the
    untransposed image: line k at position x is row k − max(e, 0) + round(d·x / (2(n − 1))), for a drift of d
    half pixels over the line (e its end's shift), −1 outside. None when guide-toned ink does not span the lines'
    direction, or no line at any slope is dense enough to be a guide, or the straight rows hold as much. Slopes
    are compared on every third position (``_shear``); the first reached wins a tie, walking out from 0."""
    h, n = light.shape
    across = light.any(axis=0)  # a guide runs end to end: guide-toned ink must span the lines' direction
    if n < 16 or np.count_nonzero(across) < GUIDE_SPAN * n:
        return None
    ys, xs = np.nonzero(light[:, ::3])
    step = max(1, width // 4)  # half pixels of drift between slopes tried
    reach = math.ceil(2 * math.tan(math.radians(GUIDE_TILT)) * (n - 1))
    drifts = np.array([0] + [sign * k for k in range(step, reach + 1, step) for sign in (-1, 1)])
    span = h + reach + 2  # lines per slope: shifts reach at most round(reach / 2) either way
    k = ys[None, :] - _shear(drifts[:, None], 3 * xs[None, :], n) + (reach // 2 + 1)
    counts = np.bincount((k + span * np.arange(len(drifts))[:, None]).ravel(), minlength=span * len(drifts))
    fullest = counts.reshape(len(drifts), span).max(axis=1)  # the fullest line at each slope
    best = int(fullest.argmax())
    d = int(drifts[best])
    if d == 0 or fullest[best] < GUIDE_DENSITY * len(range(0, n, 3)):
        return None
    end = int(_shear(d, n - 1, n))
    lines = np.arange(-max(end, 0), h - min(end, 0))[:, None]
    x = np.arange(n)[None, :]
    y = lines + _shear(d, x, n)
    flat = x * h + y if transposed else y * n + x
    return np.where((y >= 0) & (y < h), flat, -1)


def _shear(drift, x, n: int):
    """round(drift · x / (2(n − 1))) in whole numbers (halves up): the shift at position x of a line drifting
    ``drift`` half pixels over its n positions."""
    return (drift * x + (n - 1)) // (2 * (n - 1))


@functools.lru_cache(maxsize=8)
def _diagonals(h: int, w: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat pixel indices of the strips along the main and the anti-diagonal of an h × w image: line k is the
    diagonal moved k − (2·width + 1) columns, pixels outside the image −1."""
    k = np.arange(-(2 * width + 1), 2 * width + 2)[:, None]
    along = np.floor(np.arange(h) * ((w - 1) / (h - 1)) + 0.5).astype(np.int64)[None, :]
    out = []
    for xs in (along + k, (w - 1 - along) - k):
        index = np.where((xs >= 0) & (xs < w), np.arange(h)[None, :] * w + np.clip(xs, 0, w - 1), -1)
        index.setflags(write=False)
        out.append(index)
    return tuple(out)


def _lines_in(lines: np.ndarray, ink: np.ndarray, light: np.ndarray, count: np.ndarray, contrast: float,
              width: int, edge_is_paper: bool, inside: np.ndarray | None = None) -> list[tuple[int, int, float]]:
    """The guides among ``lines`` (a 2-D array of darkness, line i beside line i + 1; ``ink`` where it is not
    paper, ``light`` where it is ink of a guide's tone, ``count`` of that per line): (i, j, cut) for lines i..j
    lightly inked end to end, at most ``width`` thick, with paper beside them along ``GUIDE_OPEN`` of their length
    at a guide's tone, and the darkness up to which their pixels are erased. ``edge_is_paper``: paper lies beyond
    the first and the last line (else: unknown). ``inside``: the lines are sheared rows of a turned guide, with
    this many positions each inside the image; a line spans those (a turned frame leaves the image at a corner)."""
    n = lines.shape[1]
    dense = np.flatnonzero(count >= GUIDE_DENSITY * n)
    if dense.size == 0:
        return []
    first = light[dense].argmax(axis=1)
    last = n - 1 - light[dense, ::-1].argmax(axis=1)
    spanning = dense[last - first + 1 >= GUIDE_SPAN * (n if inside is None else inside[dense])]
    found = []
    for run in np.split(spanning, np.flatnonzero(np.diff(spanning) > 1) + 1) if spanning.size else ():
        i, j = int(run[0]), int(run[-1])
        if j - i + 1 > width:
            continue
        open_ = light[i:j + 1].any(axis=0)  # lightly inked, with paper on the line just before and just after
        for k in (i - 1, j + 1):
            if 0 <= k < len(ink):
                open_ &= ~ink[k]
            elif not edge_is_paper:
                open_[:] = False
        if np.count_nonzero(open_) < GUIDE_OPEN * n:
            continue
        px = np.sort(lines[i:j + 1].max(axis=0)[open_])  # the darkest pixel across the line, where open
        tone = float(px[(px.size - 1) // 2])
        if tone <= GUIDE_TONE * contrast:
            found.append((i, j, (tone + contrast) / 2))
    return found


def _ink_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (y0, y1, x0, x1) of ink pixels that have at least two ink neighbours (specks ignored)."""
    m = mask.view(np.uint8)
    h = m.copy()  # 3×3 box sum, separably: rows then columns
    h[:, 1:] += m[:, :-1]
    h[:, :-1] += m[:, 1:]
    v = h.copy()
    v[1:] += h[:-1]
    v[:-1] += h[1:]
    core = mask & (v >= 3)  # the pixel itself and at least two neighbours
    if not core.any():
        return None
    rows = np.flatnonzero(core.any(axis=1))
    cols = np.flatnonzero(core.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
