"""System CJK fonts as an extra, optional source of character shapes (``SynthConfig.fonts``).

Fonts are found once per process with ``fc-list :lang=zh`` (fontconfig); without fontconfig or fonts the list
is empty and the synthesiser silently uses stroke data only. A font sample is drawn with PIL, slanted and rotated
a little; handwriting-like fonts add shapes the stroke data does not have, print-like ones teach tolerance to neat
block letters.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .synth_config import SynthConfig
from .synth_render import finish


@lru_cache(maxsize=1)
def cjk_fonts() -> tuple[str, ...]:
    """Paths of installed fonts that cover Chinese (empty when fontconfig or such fonts are missing)."""
    if shutil.which("fc-list") is None:
        return ()
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    paths = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    return tuple(p for p in paths if p.lower().endswith((".ttf", ".otf", ".ttc")))


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return None


def _missing(font: ImageFont.FreeTypeFont, char: str) -> bool:
    """True when the font draws ``char`` as its "missing glyph" box (the same as an unassigned code point)."""
    return bytes(font.getmask(char)) == bytes(font.getmask("\U000f0000"))


def font_char(char: str, rng: np.random.Generator, cfg: SynthConfig, canvas: int) -> np.ndarray | None:
    """``char`` drawn with a random system font, or None when there is no usable font for it."""
    fonts = cjk_fonts()
    if not fonts:
        return None
    big = canvas * cfg.supersample
    size = int(big * rng.uniform(*cfg.size))
    font = _font(fonts[int(rng.integers(len(fonts)))], size)
    if font is None:
        return None
    img = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = draw.textbbox((0, 0), char, font=font)
    if x1 - x0 < 2 or y1 - y0 < 2 or _missing(font, char):
        return None
    pos = ((big - (x1 - x0)) * rng.random() - x0, (big - (y1 - y0)) * rng.random() - y0)
    draw.text(pos, char, fill=255, font=font)
    slant = float(np.clip(rng.normal(0, cfg.slant), -cfg.slant_max, cfg.slant_max))
    img = img.transform(img.size, Image.Transform.AFFINE, (1, slant, -slant * big / 2, 0, 1, 0),
                        resample=Image.Resampling.BILINEAR)
    img = img.rotate(float(rng.normal(0, cfg.rotation_deg)), resample=Image.Resampling.BILINEAR)
    return finish(img, rng, cfg)
