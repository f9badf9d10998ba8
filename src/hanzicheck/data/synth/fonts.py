"""Handwriting fonts from the npm registry as a source of character shapes (``SynthConfig.fonts``).

Seven OFL-1.1 Chinese handwriting and calligraphy fonts are published by Fontsource on npm. Each tarball is
pinned by version and sha512 integrity and cached like the stroke data (``download.fetch``; offline, point
``HANZICHECK_FONT_<NAME>`` at the tarball). Only the woff2 files of one weight are unpacked; ``unicode.json``
says which subset file covers a code point. No system font is ever used.

A glyph is used only where the font draws the simplified form: a font that draws 个 exactly like its 個 (Liu
Jian Mao Cao does) teaches the wrong shape. A sample is then rendered the way the stroke synthesiser renders
strokes: either the glyph's own shape or its centre line redrawn with a ballpoint-like pen, resized with the
synthesiser's aspect spread, warped by a smooth random displacement, slanted and rotated, on the same paper.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ..download import NpmTarball, cache_dir, fetch
from .config import SynthConfig
from .render import finish

RENDER_PX = 128  # glyphs are rasterised once at this em size and cached


@dataclass(frozen=True)
class FontPackage:
    key: str  # short name, as in SynthConfig.fonts
    family: str  # the human name (README, model card)
    tarball: NpmTarball
    weight: str = "400"
    style: str = ""  # one line for the docs

    @property
    def env_var(self) -> str:
        return self.tarball.env_var


def _pkg(key: str, family: str, version: str, integrity: str, style: str, weight: str = "400") -> FontPackage:
    env = "HANZICHECK_FONT_" + key.upper().replace("-", "_")
    return FontPackage(key, family, NpmTarball(f"@fontsource/{key}", version, integrity, env), weight, style)


FONTS: dict[str, FontPackage] = {p.key: p for p in (
    _pkg("long-cang", "Long Cang", "5.3.0",
         "sha512-lCcBJb+LWZpYCVtGvQRiZPy5/EaGPuYLycpJXUIOz28EYGGqhTVWBRqY6ucaW8l1F8gvfjutY1PoAPUrFiP0wg==",
         "fluent pen handwriting, joined strokes"),
    _pkg("zhi-mang-xing", "Zhi Mang Xing", "5.3.0",
         "sha512-V21yCCm5o2PHdXF2P9KKh7uiqL8QFFuII4DRQkpG24tfyDzJPchXKsxkcvKM43xEPvQKdbhHCBbXEFjcm/TUCQ==",
         "running-script brush"),
    _pkg("liu-jian-mao-cao", "Liu Jian Mao Cao", "5.3.0",
         "sha512-OaFm4okm77XoGA9jp1J89tDjdWlzb68yJCUL7LV75QxUWF/qOBRVqmhP7XFFsgcn/PL+nc2dPvRGT/8yit5LZg==",
         "cursive (cao shu) brush"),
    _pkg("ma-shan-zheng", "Ma Shan Zheng", "5.3.1",
         "sha512-cGGn7Yje2RSduXVxEk+rCfNZyD/T/7FMGj03LNPiK8TRL9Sing0tq1zJF3n+W29szPqgb2RNs5oIvmm+ikeI+Q==",
         "regular-script brush"),
    _pkg("lxgw-wenkai", "LXGW WenKai", "5.3.0",
         "sha512-+U5AAOXeaB7o+3G0Qm7I7Djz2Jd1hqNY+kClOZH8bTunyyGa2WxY12LZftt2AqUsxlfxwdQpd75Js1HQIt4H4g==",
         "regular script, thin", weight="300"),
    _pkg("zcool-xiaowei", "ZCOOL XiaoWei", "5.3.0",
         "sha512-iRuUPl9ONFbYzi6JcEshpE4VedINyzQ4hv0Z5XEt0cB0pMPiQeqc2Qvv1NwJCNzkPwG02VCdcO+cF2K8ylYn2A==",
         "hand-drawn serif"),
    _pkg("zcool-kuaile", "ZCOOL KuaiLe", "5.3.0",
         "sha512-jn4vpQ6QSVEckUn7uk5a9XcZMxEksTRqljmeE1VKRGMjGd6VoXdMyLGSdnTXSVwZLCCEHaIcm/2cdQuwvasJ9w==",
         "playful rounded marker"),
)}
# Held out of training: the cursive dev set (``data.cursive_dev``) renders these, so that it measures shapes
# that training never saw.
DEV_FONTS = ("zhi-mang-xing",)
TRAIN_FONTS = tuple(k for k in FONTS if k not in DEV_FONTS)

# Traditional forms of the HSK1 characters that have one: a glyph of the simplified character drawn the same as
# the font's glyph of its traditional form is the traditional shape under a simplified code point.
TRADITIONAL = dict(zip(
    "爱气车电话点脑视东读对儿饭馆飞机钟兴个汉语后会几开见块来师里妈吗买没关系苹钱请热认识么时书谁觉说岁听学们欢现写谢习医样这国",
    "愛氣車電話點腦視東讀對兒飯館飛機鐘興個漢語後會幾開見塊來師裡媽嗎買沒關係蘋錢請熱認識麼時書誰覺說歲聽學們歡現寫謝習醫樣這國",
    strict=True))

_lock = threading.Lock()


def font_package(key: str) -> FontPackage:
    pkg = FONTS.get(key)
    if pkg is None:
        raise ValueError(f"unknown font {key!r}; known: {', '.join(FONTS)}")
    return pkg


def font_dir(key: str) -> Path:
    """The unpacked woff2 files and ``unicode.json`` of font ``key`` (fetched and unpacked once, then cached)."""
    pkg = font_package(key)
    out = cache_dir() / "fonts" / f"{key}-{pkg.tarball.version}-{pkg.weight}"
    if (out / "unicode.json").is_file():
        return out
    with _lock:
        if (out / "unicode.json").is_file():
            return out
        tgz = fetch(pkg.tarball)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{key}-"))
        try:
            suffix = f"-{pkg.weight}-normal.woff2"
            with tarfile.open(tgz, "r:gz") as tar:
                for member in tar:
                    name = Path(member.name).name
                    if member.isfile() and (name == "unicode.json" or name.endswith(suffix)):
                        src = tar.extractfile(member)
                        assert src is not None
                        (tmp / name).write_bytes(src.read())
            if not (tmp / "unicode.json").is_file() or not any(tmp.glob("*.woff2")):
                raise ValueError(f"{pkg.tarball.filename}: no unicode.json or weight-{pkg.weight} woff2 files")
            try:
                os.replace(tmp, out)
            except OSError:  # another process unpacked it first
                if not (out / "unicode.json").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _parse_ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        part = part.strip().removeprefix("U+").removeprefix("u+")
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return out


@cache
def _subsets(key: str) -> tuple[tuple[Path, tuple[tuple[int, int], ...]], ...]:
    """(woff2 file, code point ranges) of font ``key``; a font with one file (empty unicode.json) covers all."""
    folder = font_dir(key)
    pkg = font_package(key)
    table = json.loads((folder / "unicode.json").read_text(encoding="utf-8"))
    out = []
    for subset, ranges in table.items():
        path = folder / f"{key}-{subset.strip('[]')}-{pkg.weight}-normal.woff2"
        if path.is_file():
            out.append((path, tuple(_parse_ranges(ranges))))
    if not out:
        out = [(path, ((0, 0x10FFFF),)) for path in sorted(folder.glob("*.woff2"))]
    return tuple(out)


def glyph_file(key: str, char: str) -> Path | None:
    """The woff2 subset of font ``key`` whose unicode-range covers ``char``, or None."""
    cp = ord(char)
    for path, ranges in _subsets(key):
        if any(lo <= cp <= hi for lo, hi in ranges):
            return path
    return None


@lru_cache(maxsize=256)
def _font(path: Path) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), RENDER_PX)


@lru_cache(maxsize=8192)
def glyph(key: str, char: str) -> np.ndarray | None:
    """Ink coverage (float32 0..1, cropped to the ink) of ``char`` in font ``key`` at ``RENDER_PX``, or None
    where the font has no glyph for it."""
    path = glyph_file(key, char)
    if path is None:
        return None
    font = _font(path)
    if bytes(font.getmask(char)) == bytes(font.getmask("\U000f0000")):  # the "missing glyph" box
        return None
    x0, y0, x1, y1 = font.getbbox(char)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    img = Image.new("L", (x1 - x0 + 4, y1 - y0 + 4), 0)
    ImageDraw.Draw(img).text((2 - x0, 2 - y0), char, fill=255, font=font)
    cov = np.asarray(img, np.float32) / 255
    ys, xs = np.nonzero(cov > 0.2)
    if len(ys) < 8:
        return None
    return cov[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _shape(cov: np.ndarray, size: int = 24) -> np.ndarray:
    """A centred, blurred, zero-mean thumbnail of an ink coverage (for shape comparisons)."""
    h, w = cov.shape
    side = max(h, w)
    square = np.zeros((side, side), np.float32)
    square[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = cov
    img = Image.fromarray((square * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BOX)
    small = np.asarray(img.filter(ImageFilter.GaussianBlur(1.0)), np.float32)
    return small - small.mean()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two ink coverages' thumbnails (1 = the same drawing)."""
    x, y = _shape(a), _shape(b)
    denom = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum()) / denom if denom > 0 else 0.0


@lru_cache(maxsize=512)
def reference(char: str) -> np.ndarray | None:
    """Ink coverage of ``char``'s filled stroke outlines in the stroke data (None if it has no entry)."""
    from ..strokes import default_db

    db = default_db()
    if char not in db:
        return None
    img = Image.new("L", (RENDER_PX, RENDER_PX), 0)
    draw = ImageDraw.Draw(img)
    for stroke in db.get(char).outline_polygons(steps=4):
        for poly in stroke:
            pts = np.asarray(poly) * (RENDER_PX / 1024)  # image coordinates in the 1024 box
            if len(pts) >= 3:
                draw.polygon(pts.ravel().tolist(), fill=255)
    cov = np.asarray(img, np.float32) / 255
    ys, xs = np.nonzero(cov > 0.2)
    return cov[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(ys) else None


def _leans_traditional(key: str, char: str) -> float:
    """How much closer font ``key``'s ``char`` is to its traditional form's reference strokes than to its own."""
    cov, ref_s, ref_t = glyph(key, char), reference(char), reference(TRADITIONAL[char])
    if cov is None or ref_s is None or ref_t is None:
        return 0.0
    return similarity(cov, ref_t) - similarity(cov, ref_s)


@cache
def traditional_font(key: str) -> bool:
    """Whether font ``key`` draws the traditional forms: over the HSK1 characters that have one, its glyphs are
    on average closer to the traditional references (Liu Jian Mao Cao: 个 as 個, 东 as 東, …)."""
    leans = [_leans_traditional(key, c) for c in TRADITIONAL]
    return float(np.mean(leans)) > 0.0


@lru_cache(maxsize=8192)
def usable(key: str, char: str) -> bool:
    """Whether font ``key`` draws ``char`` at all, and in its simplified form. A character that has a
    traditional form is refused when the font draws traditional forms, when its glyph is the same drawing as
    the font's own traditional glyph, or when it is clearly closer to the traditional reference strokes."""
    cov = glyph(key, char)
    if cov is None:
        return False
    trad = TRADITIONAL.get(char)
    if trad is None:
        return True
    if traditional_font(key):
        return False
    other = glyph(key, trad)
    if other is not None and similarity(cov, other) >= 0.9:
        return False
    return _leans_traditional(key, char) < 0.2


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang–Suen thinning: the one-pixel centre line of a binary shape (vectorised; ~half a stroke width of
    passes)."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            p2, p3, p4, p5 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:]
            p6, p7, p8, p9 = img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]
            ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
            b = sum(p.astype(np.int8) for p in ring[:-1])
            a = sum(((ring[i] == 0) & (ring[i + 1] == 1)).astype(np.int8) for i in range(8))
            if step == 0:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            kill = (c == 1) & (b >= 2) & (b <= 6) & (a == 1) & cond
            if kill.any():
                c[kill] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


@lru_cache(maxsize=4096)
def centre_line(key: str, char: str) -> np.ndarray | None:
    cov = glyph(key, char)
    return None if cov is None else thin(cov > 0.5)


def _u(rng: np.random.Generator, lohi: tuple[float, float]) -> float:
    return lohi[0] + (lohi[1] - lohi[0]) * rng.random()


def _pen_redraw(line: np.ndarray, width_px: float) -> Image.Image:
    """A centre line drawn with a round pen ``width_px`` wide (at RENDER_PX)."""
    img = Image.fromarray((line * 255).astype(np.uint8))
    k = 2 * int(round(max(width_px, 1.0) / 2)) + 1  # odd filter size
    return img.filter(ImageFilter.MaxFilter(k)) if k > 1 else img


def _warp(img: Image.Image, rng: np.random.Generator, amount: float, cells: int = 4) -> Image.Image:
    """A smooth random displacement (``amount`` × the image side at most ~2σ), as a piecewise-affine mesh."""
    w, h = img.size
    xs, ys = np.linspace(0, w, cells + 1), np.linspace(0, h, cells + 1)
    gx, gy = np.meshgrid(xs, ys)
    coarse = rng.normal(0, amount * max(w, h), (2, 3, 3))
    u = np.linspace(0, 2, cells + 1)
    i0 = np.minimum(u.astype(int), 1)
    f = u - i0
    def interp(g: np.ndarray) -> np.ndarray:  # bilinear from the 3×3 coarse grid to the mesh nodes
        rows = g[i0] * (1 - f)[:, None] + g[i0 + 1] * f[:, None]
        return rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]
    sx, sy = gx + interp(coarse[0]), gy + interp(coarse[1])
    mesh = []
    for r in range(cells):
        for c in range(cells):
            box = (int(xs[c]), int(ys[r]), int(xs[c + 1]), int(ys[r + 1]))
            quad = (sx[r, c], sy[r, c], sx[r + 1, c], sy[r + 1, c], sx[r + 1, c + 1], sy[r + 1, c + 1],
                    sx[r, c + 1], sy[r, c + 1])
            mesh.append((box, tuple(float(v) for v in quad)))
    return img.transform(img.size, Image.Transform.MESH, mesh, resample=Image.Resampling.BILINEAR)


def font_char(char: str, rng: np.random.Generator, cfg: SynthConfig, canvas: int) -> np.ndarray | None:
    """``char`` in one of ``cfg.fonts`` that draws it (simplified form), rendered like handwriting; None when
    none of them does."""
    keys = [k for k in cfg.fonts if usable(k, char)]
    if not keys:
        return None
    key = keys[int(rng.integers(len(keys)))]
    cov = glyph(key, char)
    assert cov is not None
    h, w = cov.shape
    em = max(h, w)
    small = rng.random() < cfg.small_prob
    if small or rng.random() < cfg.font_pen_prob:  # the centre line with a ballpoint-like pen (a brush glyph
        img = _pen_redraw(centre_line(key, char), _u(rng, cfg.pen_width) * em)  # written small is a blob)
    else:
        img = Image.fromarray((cov * 255).astype(np.uint8))
    ratio = float(np.exp(rng.normal(cfg.aspect_log_mean, cfg.aspect_log_sigma) * 0.5))  # fonts are already varied
    img = img.resize((max(2, round(w * ratio)), max(2, round(h / ratio))), Image.Resampling.BILINEAR)
    big = canvas * cfg.supersample
    size = big * _u(rng, cfg.small_size if small else cfg.size)
    scale = size / max(img.size)
    img = img.resize((max(2, round(img.size[0] * scale)), max(2, round(img.size[1] * scale))),
                     Image.Resampling.BILINEAR)
    page = Image.new("L", (big, big), 0)
    free = np.maximum(np.array([big, big]) - np.array(img.size), 0)
    x, y = (rng.random(2) * free).astype(int)
    page.paste(img, (int(x), int(y)))
    if cfg.elastic > 0:
        page = _warp(page, rng, cfg.elastic * 0.5 * size / big)
    slant = float(np.clip(rng.normal(0, cfg.slant), -cfg.slant_max, cfg.slant_max))
    page = page.transform(page.size, Image.Transform.AFFINE, (1, slant, -slant * big / 2, 0, 1, 0),
                          resample=Image.Resampling.BILINEAR)
    page = page.rotate(float(rng.normal(0, cfg.rotation_deg)), resample=Image.Resampling.BILINEAR)
    return finish(page, rng, cfg, blur=not small)
