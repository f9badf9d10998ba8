"""Preprocessing: every input kind, polarity, centring, real Chinese MNIST digits, bad inputs."""

from __future__ import annotations

import io
import time
import warnings

import numpy as np
import pytest
from PIL import Image, ImageDraw

from guide_images import turned_guides
from hanzicheck.data.preprocess import (
    BLOT_MESSAGE,
    IMAGE_SIZE,
    InvalidImageError,
    _paper_level,
    erase_guides,
    flatten_paper,
    preprocess,
    preprocess_batch,
)


def _cross(size: int = 64, off: tuple[int, int] = (0, 0), ink: int = 0, paper: int = 255) -> np.ndarray:
    """A dark plus sign (two thick strokes) on light paper, shifted by ``off``."""
    img = np.full((size, size), paper, np.uint8)
    cy, cx = size // 2 + off[0], size // 2 + off[1]
    img[cy - 10:cy + 10, cx - 2:cx + 2] = ink
    img[cy - 2:cy + 2, cx - 10:cx + 10] = ink
    return img


def _centre_of_ink(x: np.ndarray) -> tuple[float, float]:
    w = 1.0 - x
    ys, xs = np.indices(x.shape)
    return float((w * ys).sum() / w.sum()), float((w * xs).sum() / w.sum())


def _png(img: np.ndarray | Image.Image, fmt: str = "PNG") -> bytes:
    im = img if isinstance(img, Image.Image) else Image.fromarray(img)
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def test_output_shape_range_and_contrast():
    x = preprocess(_cross())
    assert x.shape == (IMAGE_SIZE, IMAGE_SIZE) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert x[0].min() == 1.0 and x[:, 0].min() == 1.0  # margin of paper


def test_offcentre_ink_is_centred():
    cy, cx = _centre_of_ink(preprocess(_cross(off=(-18, 15))))
    assert abs(cy - 19.5) < 1.0 and abs(cx - 19.5) < 1.0


def test_light_on_dark_equals_dark_on_light():
    a = preprocess(_cross())
    b = preprocess(_cross(ink=255, paper=0))
    assert np.abs(a - b).max() < 1e-6


def test_grey_paper_and_grey_ink_are_normalised():
    x = preprocess(_cross(ink=90, paper=180))
    assert x.min() == 0.0 and np.median(x) == 1.0


def test_aspect_ratio_kept():
    img = np.full((64, 64), 255, np.uint8)
    img[30:34, 4:60] = 0  # a flat horizontal stroke (一)
    x = preprocess(img)
    rows = np.flatnonzero((x < 0.5).any(axis=1))
    cols = np.flatnonzero((x < 0.5).any(axis=0))
    assert len(cols) > 30 and len(rows) <= 5


def test_isolated_specks_do_not_move_the_crop():
    clean = preprocess(_cross())
    noisy = _cross()
    noisy[2, 2] = noisy[60, 61] = 0
    assert np.abs(preprocess(noisy) - clean).max() < 1e-6


def test_faint_strokes_are_not_cropped_off():
    img = np.full((64, 64), 255, np.uint8)
    img[40:43, 10:54] = 0  # a bold stroke
    img[8:20, 30:33] = 255 - 75  # a light pencil stroke well above it (30 % of the contrast)
    x = preprocess(img)
    assert (x[:15] < 0.95).sum() >= 10  # the light stroke is inside the crop, at the top
    assert np.argmin(x.min(axis=1)) > 25  # the bold stroke at the bottom


def test_faint_paper_noise_is_ignored():
    rng = np.random.default_rng(0)
    img = (_cross().astype(np.int16) + rng.normal(0, 6, (64, 64))).clip(0, 255).astype(np.uint8)
    diff = np.abs(preprocess(img) - preprocess(_cross()))
    assert diff.max() < 0.1  # the same crop, and the paper stays white


def _gridded(ink: np.ndarray, colour: tuple[int, int, int], diagonals: bool = False, ruled: bool = False
             ) -> np.ndarray:
    """The drawing over a practice grid (RGB): a frame and a dashed 田字格 cross (and a 米字格's diagonals), or
    ruled lines clear of the strokes; the ink multiplied onto it, as a pen on printed paper."""
    n = ink.shape[0]
    im = Image.new("RGB", (n, n), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    if ruled:
        for y in (8, 30, 40, 62, 72, 90, 110, 122):
            draw.line(((0, y), (n - 1, y)), fill=colour, width=1)
    else:
        draw.rectangle((3, 3, n - 4, n - 4), outline=colour, width=2)  # a canvas margin outside it
        lines = [((0, n // 2), (n - 1, n // 2)), ((n // 2, 0), (n // 2, n - 1))]
        lines += [((0, 0), (n - 1, n - 1)), ((0, n - 1), (n - 1, 0))] if diagonals else []
        for (x0, y0), (x1, y1) in lines:
            steps = max(abs(x1 - x0), abs(y1 - y0)) // 4
            for k in range(0, steps, 2):  # dashes 4 px long
                draw.line(((x0 + (x1 - x0) * k // steps, y0 + (y1 - y0) * k // steps),
                           (x0 + (x1 - x0) * (k + 1) // steps, y0 + (y1 - y0) * (k + 1) // steps)), fill=colour, width=1)
    grid = np.asarray(im, np.float64)
    return np.rint(grid * (ink[..., None] / 255.0)).astype(np.uint8)


@pytest.mark.parametrize(("colour", "diagonals"), [
    ((170, 170, 170), False), ((235, 110, 110), False), ((110, 190, 120), False), ((170, 170, 170), True),
    ((235, 110, 110), True)], ids=["grey 田字格", "red 田字格", "green 田字格", "grey 米字格", "red 米字格"])
def test_a_practice_grid_lighter_than_the_ink_is_erased(colour, diagonals):
    """A character written in a printed 田字格 or 米字格 (or a canvas exported with its grid) reads as the ink alone."""
    ink = _character()
    diff = np.abs(preprocess(_gridded(ink, colour, diagonals)) - preprocess(ink))
    assert diff.mean() < 0.01 and diff.max() < 0.5


def test_ruled_lines_lighter_than_the_ink_are_erased():
    """Lines that no stroke lies along (a stroke written on a line, touching it along much of its length, keeps
    that line: it is not told apart from the stroke's own edge)."""
    ink = _character()
    diff = np.abs(preprocess(_gridded(ink, (170, 170, 170), ruled=True)) - preprocess(ink))
    assert diff.mean() < 0.01 and diff.max() < 0.5


@pytest.mark.parametrize(("kind", "tilt", "inset"), [
    ("田字格", 1.0, 3), ("田字格", -1.5, 3), ("田字格", 2.8, 3), ("田字格", 2.0, 1), ("ruled", 2.0, 3), ("ruled", -3.0, 3)],
    ids=["田字格 1°", "田字格 -1.5°", "田字格 2.8°", "田字格 2°, its frame cut by the corners", "ruled 2°", "ruled -3°"])
def test_guides_in_a_photo_taken_askew_are_erased(kind, tilt, inset):
    """Rows and columns turned by up to GUIDE_TILT (3°), as a phone held a little crooked turns them, a frame
    that the turn pushes out of the image at its corners too (a turned 米字格's diagonals are not searched)."""
    ink = _character()
    turned = np.minimum(ink, turned_guides(128, 128, kind, tilt, inset=inset))
    diff = np.abs(preprocess(turned) - preprocess(ink))
    assert diff.mean() < 0.01 and diff.max() < 0.5


def test_ruled_lines_turned_past_the_tilt_searched_stay():
    """Lines turned 5° (past GUIDE_TILT) are not read as guides: they stay ink, and the crop grows to them."""
    ink = _character()
    turned = np.minimum(ink, turned_guides(128, 128, "ruled", 5.0))
    assert np.abs(preprocess(turned) - preprocess(ink)).mean() > 0.05


def test_a_turned_grid_is_read_as_ink_without_the_turned_search(monkeypatch):
    ink = _character()
    turned = np.minimum(ink, turned_guides(128, 128, "ruled", 2.0))
    monkeypatch.setattr("hanzicheck.data.preprocess._tilted", lambda light, width, transposed: None)
    assert np.abs(preprocess(turned) - preprocess(ink)).mean() > 0.05


def test_without_erasing_a_grid_is_read_as_ink(monkeypatch):
    ink = _character()
    monkeypatch.setattr("hanzicheck.data.preprocess.erase_guides", lambda dark, contrast: dark)
    assert np.abs(preprocess(_gridded(ink, (170, 170, 170))) - preprocess(ink)).mean() > 0.05


def test_a_grid_as_dark_as_the_ink_is_ink():
    """A guide darker than GUIDE_TONE of the ink is not told apart from a long thin stroke: it stays, and the crop
    grows to the whole grid (the README says: send the ink alone); one lighter than NOISE_FLOOR was always paper."""
    def gridded(grey: int) -> np.ndarray:
        im = Image.new("L", (96, 96), 255)
        draw = ImageDraw.Draw(im)
        for line in (((0, 48), (95, 48)), ((48, 0), (48, 95)), ((0, 0), (95, 95)), ((0, 95), (95, 0))):
            draw.line(line, fill=grey, width=1)
        return np.minimum(np.asarray(im), _cross(96))  # the ink over the guide

    assert np.array_equal(preprocess(gridded(225)), preprocess(_cross(96)))
    dark = preprocess(gridded(110))
    assert dark[2, 2] < 0.9 and dark[2, 37] < 0.9  # the diagonals reach the crop's corners


def test_a_thin_stroke_across_a_tight_crop_is_not_a_guide():
    """十 written with a thin dark pen and cropped to its ink: both strokes run end to end, thin, with paper
    beside them, like guides; they are as dark as the ink, so they stay."""
    im = Image.new("L", (60, 60), 255)
    draw = ImageDraw.Draw(im)
    draw.line(((0, 28), (59, 31)), fill=0, width=2)
    draw.line(((30, 0), (29, 59)), fill=0, width=2)
    gray = np.asarray(im)
    dark = (255 - gray).astype(np.float32)
    assert erase_guides(dark, float(dark.max())) is dark


def _character(size: int = 128) -> np.ndarray:
    """A 口 with a 十 inside and a long stroke below: dark ink on white, well inside the image."""
    im = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(im)
    s = size / 128
    draw.rectangle([30 * s, 20 * s, 98 * s, 80 * s], outline=0, width=round(5 * s))
    draw.line([(64 * s, 25 * s), (64 * s, 76 * s)], fill=0, width=round(5 * s))
    draw.line([(35 * s, 50 * s), (93 * s, 50 * s)], fill=0, width=round(5 * s))
    draw.line([(20 * s, 100 * s), (108 * s, 96 * s)], fill=0, width=round(5 * s))
    return np.asarray(im)


@pytest.mark.parametrize("darkest", [170, 120])
def test_uneven_lighting_is_divided_out(darkest):
    """A photo's shadow across the page (paper from 255 down to ``darkest``) gives the even page's input."""
    even = _character()
    shaded = np.floor(even * np.linspace(1.0, darkest / 255, even.shape[1])[None, :]).astype(np.uint8)
    diff = np.abs(preprocess(shaded) - preprocess(even))
    assert diff.mean() < 0.02 and diff.max() < 0.5


def test_without_the_flattening_a_shadow_is_read_as_ink(monkeypatch):
    even = _character()
    shaded = np.floor(even * np.linspace(1.0, 120 / 255, even.shape[1])[None, :]).astype(np.uint8)
    monkeypatch.setattr("hanzicheck.data.preprocess.flatten_paper", lambda gray: gray)
    assert np.abs(preprocess(shaded) - preprocess(even)).mean() > 0.1


@pytest.mark.parametrize(("ink", "darkest"), [(140, 100), (100, 60)])
def test_a_shadow_that_makes_the_page_look_inverted_is_divided_out(ink, darkest):
    """Pencil-grey ink under a deep shadow: the shaded half of the page is darker than the ink on the lit half,
    so the page reads as light ink on dark paper; flattened, it reads as what it is."""
    even = (ink + _character().astype(np.float64) * (255 - ink) / 255).astype(np.uint8)
    shaded = np.floor(even * np.linspace(1.0, darkest / 255, even.shape[1])[None, :]).astype(np.uint8)
    assert _paper_level(shaded)[1]  # the case covers the inverted reading
    diff = np.abs(preprocess(shaded) - preprocess(even))
    assert diff.mean() < 0.02 and diff.max() < 0.5


def test_a_shadow_in_one_corner_is_divided_out():
    even = _character()
    yy, xx = np.mgrid[0:128, 0:128] / 127
    shaded = np.floor(even * (1.0 - 0.4 * yy * xx)).astype(np.uint8)
    assert np.abs(preprocess(shaded) - preprocess(even)).mean() < 0.02


@pytest.mark.parametrize("make", [
    lambda: _character(),
    lambda: _character()[18:84, 28:101],  # cropped to the 口: ink all along the border
    lambda: _cross(64, paper=200),  # grey paper, evenly lit
    lambda: np.asarray(Image.fromarray(_character(64)).resize((160, 160))),  # thick strokes, a third of a cell
], ids=["character", "tight crop", "grey paper", "thick strokes"])
def test_evenly_lit_images_are_left_exactly_as_they_are(make):
    gray = make()
    assert flatten_paper(gray) is gray


def test_no_real_handwriting_is_changed_by_erasing_guides(real_data, monkeypatch):
    """Chinese MNIST (scans, many cropped close) and UNIPEN Latin: no stroke is taken for a guide line."""
    images = [img for name in ("chinese_mnist_dev.npz", "unipen_latin_dev.npz")
              for img in np.load(real_data / name)["images"][1::3]]
    with_it = [preprocess(img, allow_blank=True) for img in images]
    monkeypatch.setattr("hanzicheck.data.preprocess.erase_guides", lambda dark, contrast: dark)
    for img, x in zip(images, with_it, strict=True):
        assert np.array_equal(preprocess(img, allow_blank=True), x)


def test_no_real_handwriting_is_changed_by_the_flattening(real_data, monkeypatch):
    images = [img for name in ("chinese_mnist_dev.npz", "unipen_latin_dev.npz")
              for img in np.load(real_data / name)["images"][::3]]
    with_it = [preprocess(img, allow_blank=True) for img in images]  # a few UNIPEN samples hold only specks
    monkeypatch.setattr("hanzicheck.data.preprocess.flatten_paper", lambda gray: gray)
    for img, x in zip(images, with_it, strict=True):
        assert np.array_equal(preprocess(img, allow_blank=True), x)


@pytest.mark.parametrize("kind", ["path", "str", "bytes", "pil", "jpeg"])
def test_encoded_and_pil_inputs_match_the_array(kind, tmp_path):
    img = _cross(100, off=(5, -7))
    ref = preprocess(img)
    if kind in ("path", "str"):
        p = tmp_path / "c.png"
        p.write_bytes(_png(img))
        arg = p if kind == "path" else str(p)
    elif kind == "bytes":
        arg = _png(img)
    elif kind == "pil":
        arg = Image.fromarray(img)
    else:
        arg = _png(img, "JPEG")
    diff = np.abs(preprocess(arg) - ref)
    if kind == "jpeg":  # lossy: ringing around the strokes, same crop
        assert diff.mean() < 0.01 and diff.max() < 0.3
    else:
        assert diff.max() < 1e-6


def test_rgb_and_float_arrays():
    img = _cross()
    ref = preprocess(img)
    assert np.abs(preprocess(np.stack([img] * 3, -1)) - ref).max() < 1e-6
    assert np.abs(preprocess(img.astype(np.float32) / 255) - ref).max() < 1e-6
    assert np.abs(preprocess(img[..., None]) - ref).max() < 1e-6


def test_transparent_background_is_composited_on_white():
    # a canvas export: black strokes drawn on fully transparent (black, alpha 0) pixels
    alpha = np.where(_cross() == 0, 255, 0).astype(np.uint8)
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., 3] = alpha
    ref = preprocess(_cross())
    assert np.abs(preprocess(rgba) - ref).max() < 1e-6
    assert np.abs(preprocess(_png(Image.fromarray(rgba, "RGBA"))) - ref).max() < 1e-6
    la = Image.fromarray(rgba, "RGBA").convert("LA")
    assert np.abs(preprocess(la) - ref).max() < 1e-6


def test_white_strokes_on_transparent_canvas_use_the_alpha():
    rgba = np.full((64, 64, 4), 255, np.uint8)
    rgba[..., 3] = np.where(_cross() == 0, 255, 0)
    assert np.abs(preprocess(rgba) - preprocess(_cross())).max() < 1e-6


def test_palette_image_with_transparency():
    im = Image.fromarray(np.stack([_cross()] * 3, -1)).convert("P")
    white = im.getpixel((0, 0))
    im.info["transparency"] = white
    assert np.abs(preprocess(_png(im)) - preprocess(_cross())).max() < 1e-6


def test_batch_layout():
    out = preprocess_batch([_cross(), _cross(ink=255, paper=0)])
    assert out.shape == (2, IMAGE_SIZE, IMAGE_SIZE, 1) and out.dtype == np.float32
    assert preprocess_batch(np.stack([_cross()] * 3)).shape == (3, IMAGE_SIZE, IMAGE_SIZE, 1)
    assert preprocess_batch([]).shape == (0, IMAGE_SIZE, IMAGE_SIZE, 1)


def test_real_chinese_mnist_becomes_centred_dark_on_light(real_data):
    data = np.load(real_data / "chinese_mnist_dev.npz")
    images = data["images"][::250]  # light strokes on black, small and off-centre
    assert np.median(images) < 30
    for img in images:
        x = preprocess(img)
        assert np.mean(x > 0.9) > 0.5 and (x[:2] == 1.0).all(), "paper should be white"
        assert x.min() < 1e-6
        ink = x < 0.8
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        # the longer side of the ink spans the inner box; the box is centred
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) >= 28
        assert abs((rows[0] + rows[-1]) / 2 - 19.5) <= 3 and abs((cols[0] + cols[-1]) / 2 - 19.5) <= 3


@pytest.mark.parametrize("bad, words", [
    (b"", "empty"),
    (b"this is not an image at all", "not an image"),
    (np.zeros((0, 10), np.uint8), "empty"),
    (np.full((64, 64), 255, np.uint8), "no ink"),
    (np.full((64, 64), 3, np.uint8), "no ink"),
    (np.zeros((2, 3, 4, 5), np.uint8), "shape"),
    (np.array([[np.nan, 1.0], [0.0, 1.0]]), "NaN"),
    (np.full((64, 64), -1.0, np.float32), "minimum of -1"),  # normalised to [-1, 1]
    (_cross().astype(np.int16) - 128, "minimum of -128"),  # signed
    (12345, "int"),
])
def test_bad_inputs_raise_invalid_image(bad, words):
    with pytest.raises(InvalidImageError, match=words):
        preprocess(bad)


def _pen(lines: list[tuple[int, int, int, int]], width: int, size: int = 128) -> np.ndarray:
    """Dark pen lines (x0, y0, x1, y1) with round ends on white paper, as a canvas draws them."""
    im = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(im)
    for x0, y0, x1, y1 in lines:
        draw.line((x0, y0, x1, y1), fill=0, width=width)
        for x, y in ((x0, y0), (x1, y1)):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=0)
    return np.asarray(im)


@pytest.mark.parametrize("lines, width", [
    ([(64, 64, 64, 64)], 4),  # a tap
    ([(64, 64, 64, 64)], 12),  # a tap with a felt pen
    ([(60, 64, 68, 64)], 8),  # a dash twice as long as it is thick
])
def test_a_lone_dot_or_short_dash_is_one_blot_not_a_character(lines, width):
    with pytest.raises(InvalidImageError, match="one dot or blot"):
        preprocess(_pen(lines, width), name="tap.png")
    with pytest.raises(InvalidImageError, match="^tap.png: no strokes"):
        preprocess(_pen(lines, width), name="tap.png")


@pytest.mark.parametrize("lines, width", [
    ([(20, 64, 108, 64)], 16),  # 一 with a broad brush
    ([(20, 50, 108, 50), (64, 15, 64, 115)], 14),  # 十 with a broad brush
    ([(40, 40, 90, 90), (90, 40, 40, 90)], 10),  # a small, thick 乂
])
def test_thick_strokes_are_strokes_not_a_blot(lines, width):
    x = preprocess(_pen(lines, width))
    assert x.min() < 1e-6


def test_no_real_handwriting_is_taken_for_a_blot(real_data):
    images = np.load(real_data / "chinese_mnist_dev.npz")["images"]  # small, blurry, thick: the hardest case
    for i, img in enumerate(images):
        try:
            preprocess(img)
        except InvalidImageError as e:
            assert BLOT_MESSAGE not in str(e), f"sample {i}"


def test_blank_is_paper_when_allowed():
    x = preprocess(np.full((64, 64), 200, np.uint8), allow_blank=True)
    assert x.shape == (IMAGE_SIZE, IMAGE_SIZE) and (x == 1.0).all()
    with pytest.raises(InvalidImageError, match="not an image"):
        preprocess(b"garbage", allow_blank=True)  # only blank images are forgiven


def test_truncated_png_is_invalid():
    data = _png(_cross(200))
    with pytest.raises(InvalidImageError, match="truncated"):
        preprocess(data[: len(data) // 2])


def test_missing_file_is_invalid(tmp_path):
    with pytest.raises(InvalidImageError, match="cannot read"):
        preprocess(tmp_path / "nope.png")


def test_decompression_bomb_is_refused_without_warning():
    # a 1-bit PNG of 10,000 × 5,000 pixels: a few kilobytes that would decode to 50 megapixels
    data = _png(Image.new("1", (10_000, 5_000), 1))
    assert len(data) < 100_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidImageError, match="too large"):
            preprocess(data)


def test_large_photo_is_reduced_and_still_centred():
    img = np.full((2000, 1500), 230, np.uint8)
    img[300:700, 900:960] = 20
    img[470:530, 700:1200] = 20
    cy, cx = _centre_of_ink(preprocess(img))
    assert abs(cy - 19.5) < 1.5 and abs(cx - 19.5) < 1.5


# ---------------------------------------------------------------- issue 17: one guarded decoder


def test_16bit_png_keeps_its_grey_levels(tmp_path):
    """A 16-bit greyscale PNG with grey ink on grey paper reads like its 8-bit original."""
    eight = _cross(96, ink=100, paper=230)
    path = tmp_path / "cross16.png"
    Image.fromarray(eight.astype(np.uint16) * 257).save(path)
    with Image.open(path) as im:
        assert im.mode.startswith("I;16")
    assert np.array_equal(preprocess(path), preprocess(eight))


@pytest.mark.parametrize("fmt", ["PPM", "TGA", "PCX", "EPS"])
def test_formats_outside_the_allow_list_are_refused(fmt):
    """Only PNG, JPEG, WebP, BMP, GIF and TIFF are decoded; EPS would go to Ghostscript."""
    data = _png(Image.fromarray(_cross(64)).convert("RGB" if fmt == "EPS" else "L"), fmt)
    with pytest.raises(InvalidImageError, match="not an image in a format hanzicheck reads"):
        preprocess(data)


@pytest.mark.parametrize("fmt", ["GIF", "PNG"])
def test_animated_images_are_refused(fmt):
    frames = [Image.fromarray(_cross(64)), Image.fromarray(_cross(64, off=(10, 10)))]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:])
    with pytest.raises(InvalidImageError, match=f"animated {fmt}.*single still image"):
        preprocess(buf.getvalue())


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_only_regular_files_are_read(kind, tmp_path):
    import os

    path = {"device": "/dev/zero", "fifo": tmp_path / "pipe.png", "folder": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer
    start = time.monotonic()
    with pytest.raises(InvalidImageError, match="folder" if kind == "folder" else "not a regular file"):
        preprocess(path)
    assert time.monotonic() - start < 2


def test_file_over_the_size_cap_is_refused_before_reading(tmp_path, monkeypatch):
    import hanzicheck.data.preprocess as pp

    path = tmp_path / "big.png"
    path.write_bytes(_png(_cross(64)))
    monkeypatch.setattr(pp, "MAX_FILE_BYTES", 100)
    with pytest.raises(InvalidImageError, match="over the limit"):
        preprocess(path)


def test_no_ink_error_names_the_file(tmp_path):
    path = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(path)
    with pytest.raises(InvalidImageError, match=f"{path}: no ink"):
        preprocess(path)


def test_decode_errors_do_not_leak_stream_reprs():
    data = _png(_cross(200))
    for bad in (b"garbage", data[: len(data) // 2]):
        with pytest.raises(InvalidImageError) as err:
            preprocess(bad, name="the uploaded file")
        assert "the uploaded file" in str(err.value) and "object at 0x" not in str(err.value)
