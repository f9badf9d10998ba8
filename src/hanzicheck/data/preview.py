"""Contact sheets: a grid of samples from any source with their labels, so people can look at the data.

Sources: a path (any reader of ``sources``), ``synth`` (the handwriting synthesiser) or ``strokes`` (the reference
strokes). Beside each sample its model-ready 40×40 version can be drawn. Samples are shown as stored (a
light-on-dark source looks light on dark): the sheet is for seeing the data, not a cleaned-up version of it.

Labels: drawn with a CJK font when ``fc-list :lang=zh`` finds one; otherwise a Chinese label is drawn as the
reference character rendered from the stroke data (blue ink, so it is not mistaken for a sample), and Latin
labels with the default font.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SYNTH_SOURCE = "synth"
TILE = 64  # side of one sample tile, pixels
LABEL_H = 24  # label strip under each tile
PAD = 6
HEADER_H = 26
BACKGROUND = (226, 228, 232)
LABEL_INK = (30, 70, 190)
MAX_SCAN = 20_000  # samples read from a file source to choose from
SHEET_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # what a sheet is saved as (the formats preprocess reads)


class SheetWriteError(OSError):
    """The sheet could not be saved; the message starts with the file's name."""


def sheet_format(out: str | os.PathLike) -> str | None:
    """The Pillow format ``out``'s extension names, if it is one of ``SHEET_FORMATS`` that this Pillow writes."""
    Image.init()
    fmt = Image.registered_extensions().get(Path(out).suffix.lower())
    return fmt if fmt in SHEET_FORMATS and fmt in Image.SAVE else None


# --- choosing samples ----------------------------------------------------------------------------------------

def _synth_samples(n: int, chars: str, rng: np.random.Generator) -> Iterator[tuple[np.ndarray, str]]:
    from .charset import hsk1_chars
    from .synth.synthesizer import Synthesizer

    synth = Synthesizer()
    pool = list(chars) if chars else hsk1_chars()
    picks = [chars[i % len(chars)] for i in range(n)] if chars else list(rng.choice(pool, n))
    for char in picks:
        yield synth.char(str(char), rng), str(char)


def _stroke_samples(source: str | os.PathLike, n: int, chars: str,
                    rng: np.random.Generator) -> list[tuple[np.ndarray, str]]:
    """Reference characters, picked directly (rendering all ~9,500 to sample from them would take seconds)."""
    from .render import render_strokes
    from .strokes import StrokeDB

    db = StrokeDB.open(None if str(source) == "strokes" else source)
    if chars:
        picks = [c for c in chars if c in db][:n]
    else:
        picks = sorted(rng.choice(db.chars(), min(n, len(db)), replace=False).tolist())
    return [(render_strokes(list(db.get(c).medians), TILE), c) for c in picks]


def _file_samples(source: str | os.PathLike, n: int, chars: str, rng: np.random.Generator,
                  scan: int) -> list[tuple[np.ndarray, str]]:
    """Reservoir sample of ``n`` from the first ``scan`` samples (those with a label in ``chars``, if given),
    kept in stream order."""
    from .formats.registry import iter_samples

    wanted = set(chars)
    chosen: list[tuple[int, np.ndarray, str]] = []
    seen = 0
    for sample in iter_samples(source, limit=scan):
        if wanted and sample.label not in wanted:
            continue
        if len(chosen) < n:
            chosen.append((seen, sample.image, sample.label))
        else:
            j = int(rng.integers(0, seen + 1))
            if j < n:
                chosen[j] = (seen, sample.image, sample.label)
        seen += 1
    return [(image, label) for _, image, label in sorted(chosen, key=lambda t: t[0])]


def collect(source: str | os.PathLike, n: int = 100, chars: str = "", seed: int = 0,
            scan: int = MAX_SCAN) -> list[tuple[np.ndarray, str]]:
    """``n`` (image, label) pairs of a source, chosen reproducibly by ``seed`` (only ``chars``, if given)."""
    rng = np.random.default_rng(seed)
    if str(source) == SYNTH_SOURCE and not Path(source).exists():
        return list(_synth_samples(n, chars, rng))
    from .formats.registry import detect_format

    if detect_format(source) == "strokes":
        return _stroke_samples(source, n, chars, rng)
    return _file_samples(source, n, chars, rng, scan)


# --- drawing -----------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """A font file covering Chinese, as fontconfig knows it (``fc-match`` alone falls back to any font)."""
    if shutil.which("fc-list") is None:
        return None
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.strip().rstrip(":") for line in out.splitlines() if line.strip())
    return files[0] if files else None


@lru_cache(maxsize=1)
def latin_font_path() -> str | None:
    """A monospace font (tells I from l and 0 from O), if fontconfig has one."""
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "monospace"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out if out.endswith((".ttf", ".otf", ".ttc")) and Path(out).is_file() else None


def _font(size: int, cjk: bool) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    path = cjk_font_path() if cjk else latin_font_path()
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=1)
def _stroke_db():
    from .strokes import default_db

    try:
        return default_db()
    except Exception:  # noqa: BLE001 - offline without stroke data: labels fall back to code points
        return None


def _reference_glyph(char: str, size: int) -> Image.Image | None:
    """The character drawn from its reference stroke medians as blue ink on transparent, or None."""
    from .render import render_strokes

    db = _stroke_db()
    if db is None or char not in db:
        return None
    ink = 255 - render_strokes(list(db.get(char).medians), size, pen_width=0.07, margin=0.04)
    glyph = Image.new("RGBA", (size, size), (*LABEL_INK, 0))
    glyph.putalpha(Image.fromarray(ink))
    return glyph


def _draw_label(sheet: Image.Image, label: str, x: int, y: int, width: int) -> None:
    """Centre ``label`` in the strip at (x, y) of the given width."""
    draw = ImageDraw.Draw(sheet)
    size = LABEL_H - 4
    if label.isascii() or cjk_font_path():
        font = _font(size - 2, cjk=not label.isascii())
        text = label if len(label) <= 8 else label[:7] + "…"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        draw.text((x + (width - (right - left)) // 2 - left, y + (LABEL_H - (bottom - top)) // 2 - top), text,
                  fill=LABEL_INK, font=font)
        return
    glyphs = [_reference_glyph(c, size) for c in label[:3]]
    if all(g is not None for g in glyphs):
        x0 = x + (width - size * len(glyphs)) // 2
        for i, glyph in enumerate(glyphs):
            sheet.paste(glyph, (x0 + i * size, y + 2), glyph)
        return
    _draw_label(sheet, " ".join(f"U+{ord(c):04X}" for c in label[:2]), x, y, width)


def _tile(image: np.ndarray) -> Image.Image:
    """A sample as a TILE×TILE tile: aspect kept, centred on the sample's own paper tone."""
    im = Image.fromarray(np.asarray(image, dtype=np.uint8))
    scale = TILE / max(im.size)
    im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                   Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST)
    paper = int(np.median(np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])))
    tile = Image.new("L", (TILE, TILE), paper)
    tile.paste(im, ((TILE - im.width) // 2, (TILE - im.height) // 2))
    return tile


def _model_view(image: np.ndarray) -> Image.Image:
    try:
        from .preprocess import preprocess
    except ImportError as e:
        raise RuntimeError("the model-ready view needs hanzicheck.data.preprocess, which is not available") from e
    x = np.clip(np.asarray(preprocess(image), dtype=np.float32), 0, 1)
    return Image.fromarray(np.round(x * 255).astype(np.uint8)).resize((TILE, TILE), Image.Resampling.NEAREST)


def contact_sheet(samples: list[tuple[np.ndarray, str]], title: str = "", cols: int = 0,
                  model_view: bool = False) -> Image.Image:
    """Draw (image, label) pairs in a grid, each tile with its label below and, if asked, its 40×40 input."""
    if not samples:
        raise ValueError("no samples to draw")
    if cols < 0:
        raise ValueError(f"cols must be 0 (about square) or more, got {cols}")
    cols = cols or max(1, min(len(samples), math.ceil(math.sqrt(len(samples) * (1.0 if model_view else 1.6)))))
    rows = math.ceil(len(samples) / cols)
    cell_w = TILE * (2 if model_view else 1) + (2 if model_view else 0) + PAD
    cell_h = TILE + LABEL_H + PAD
    title_font = _font(15, cjk=not title.isascii())
    width = max(PAD + cols * cell_w, 2 * PAD + math.ceil(title_font.getlength(title)))
    sheet = Image.new("RGB", (width, HEADER_H + rows * cell_h + PAD), BACKGROUND)
    if title:
        ImageDraw.Draw(sheet).text((PAD, 5), title, fill=(20, 20, 20), font=title_font)
    for i, (image, label) in enumerate(samples):
        x = PAD + (i % cols) * cell_w
        y = HEADER_H + (i // cols) * cell_h
        sheet.paste(_tile(image), (x, y))
        if model_view:
            sheet.paste(_model_view(image), (x + TILE + 2, y))
        _draw_label(sheet, label, x, y + TILE, cell_w - PAD)
    return sheet


def make_sheet(source: str | os.PathLike, out: str | os.PathLike, n: int = 100, chars: str = "", seed: int = 0,
               model_view: bool = False, cols: int = 0) -> Path:
    """Collect ``n`` samples of ``source``, draw them, save the image at ``out`` (its format from the extension:
    ``sheet_format``); returns ``out``. SheetWriteError when the file cannot be written."""
    samples = collect(source, n=n, chars=chars, seed=seed)
    if not samples:
        wanted = f" labelled with any of {chars!r}" if chars else ""
        raise ValueError(f"{source}: no samples{wanted} found")
    name = Path(str(source)).name
    title = f"{name}: {len(samples)} samples" + (" (left: as stored; right: model input)" if model_view else "")
    out = Path(out)
    sheet = contact_sheet(samples, title, cols=cols, model_view=model_view)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(out)
    except (OSError, ValueError) as e:  # ValueError: an extension Pillow knows no format for
        raise SheetWriteError(f"{out}: {e.strerror if isinstance(e, OSError) and e.strerror else e}") from e
    return out
