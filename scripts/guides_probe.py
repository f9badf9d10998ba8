"""Guide lines drawn into the image: the bundled model's top-1 on all 178 characters drawn canvas-style over a
practice grid (田字格, 米字格, a frame, ruled lines; grey or coloured, solid or dashed), with and without
``preprocess.erase_guides``, and the same drawings without any guide for reference.

Usage: python scripts/guides_probe.py [MODEL] [PER_CHAR] [--strokes]  (default: the bundled model, 2 drawings a
character; seed 3 of the canvas-pair synthesiser, 128 px, a 3–5 % pen; ink drawn over the grid, as on paper).
``--strokes`` measures the other side instead: how many inputs without any guide change (strokes taken for guides)
and how many answers change, on the real dev data, on the synthesiser's training settings, and on drawings cropped
to their ink (with the training pen, a pen of 0.5–1.5 %, and fonts), where a long stroke runs across the whole crop.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import hanzicheck.data.preprocess as prep
from hanzicheck.data.charset import hsk1_chars
from hanzicheck.data.cursive_dev import CANVAS_PAIRS, PAIR_CANVAS
from hanzicheck.data.synth.config import SynthConfig
from hanzicheck.data.synth.synthesizer import Synthesizer
from hanzicheck.inference.recognizer import Recognizer

N = PAIR_CANVAS
GREY_170 = (170, 170, 170)
GREY_200 = (200, 200, 200)
RED = (235, 110, 110)  # a practice book's red grid: grey 150 once decoded
GREEN = (110, 190, 120)  # grey 157


def _line(mask: np.ndarray, p0, p1, width: float, dash: int = 0) -> None:
    """Ink the segment p0→p1 ((x, y) in pixels) into ``mask``, ``width`` px wide, dashed every ``dash`` px."""
    yy, xx = np.mgrid[0:N, 0:N].astype(np.float64)
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    length = float(np.hypot(dx, dy))
    t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (length * length), 0, 1)
    dist = np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy))
    on = np.clip(width / 2 + 0.5 - dist, 0, 1)
    if dash:
        on = on * ((t * length // dash) % 2 == 0)
    np.maximum(mask, on, out=mask)


def _segments(kind: str, width: float) -> list[tuple]:
    """The guide's segments: (p0, p1, width, dash)."""
    e, m = 1.0, (N - 1) / 2
    out = []
    if kind in ("frame", "田字格", "米字格"):
        out += [(p0, p1, width + 0.5, 0) for p0, p1 in (
            ((e, e), (N - 1 - e, e)), ((e, N - 1 - e), (N - 1 - e, N - 1 - e)),
            ((e, e), (e, N - 1 - e)), ((N - 1 - e, e), (N - 1 - e, N - 1 - e)))]
    if kind in ("田字格", "米字格"):
        out += [((e, m), (N - 1 - e, m), width, 4), ((m, e), (m, N - 1 - e), width, 4)]
    if kind == "米字格":
        out += [((e, e), (N - 1 - e, N - 1 - e), width, 4), ((N - 1 - e, e), (e, N - 1 - e), width, 4)]
    if kind == "ruled":
        out += [((-N, y), (2 * N, y), width, 0) for y in range(8, N, 16)]  # past the edges: still there turned
    return out


def _grid(kind: str, width: float = 1.5, tilt: float = 0.0) -> np.ndarray:
    """The guide's coverage (0–1), turned by ``tilt`` degrees about the centre (a photo taken askew)."""
    c, s = np.cos(np.radians(tilt)), np.sin(np.radians(tilt))

    def turn(p):
        x, y = p[0] - N / 2, p[1] - N / 2
        return x * c - y * s + N / 2, x * s + y * c + N / 2

    mask = np.zeros((N, N))
    for p0, p1, w, dash in _segments(kind, width):
        _line(mask, turn(p0), turn(p1), w, dash)
    return mask


GUIDES = {
    "no guide": (None, GREY_170),
    "田字格, grey 200": ("田字格", GREY_200),
    "田字格, grey 170": ("田字格", GREY_170),
    "田字格, red": ("田字格", RED),
    "田字格, green": ("田字格", GREEN),
    "米字格, grey 170": ("米字格", GREY_170),
    "米字格, red": ("米字格", RED),
    "frame, grey 170": ("frame", GREY_170),
    "ruled every 16 px, grey 170": ("ruled", GREY_170),
    "田字格, grey 170, tilted 1°": ("田字格 1", GREY_170),
    "田字格, grey 170, tilted 2°": ("田字格 2", GREY_170),
    "田字格, red, tilted −2°": ("田字格 -2", RED),
    "米字格, grey 170, tilted 1°": ("米字格 1", GREY_170),
    "ruled, grey 170, tilted 1°": ("ruled 1", GREY_170),
    "ruled, grey 170, tilted 2°": ("ruled 2", GREY_170),
    "ruled, grey 170, tilted −3°": ("ruled -3", GREY_170),
    "ruled, grey 170, tilted 5°": ("ruled 5", GREY_170),
}


def with_guide(ink: np.ndarray, kind: str | None, colour: tuple[int, int, int]) -> np.ndarray:
    """The drawing (uint8 grey, paper 255) over the guide: RGB uint8, ink multiplied onto the grid."""
    paper = np.ones((N, N, 3))
    if kind is not None:
        name, _, tilt = kind.partition(" ")
        on = _grid(name, tilt=float(tilt or 0))[..., None]
        paper = paper * (1 - on) + on * (np.array(colour) / 255.0)
    return np.rint(paper * (ink[..., None] / 255.0) * 255).astype(np.uint8)


def main(model: str | None = None, per_char: int = 2) -> None:
    rec = Recognizer.load(model)
    synth = Synthesizer(config=SynthConfig(**CANVAS_PAIRS), canvas=N)
    rng = np.random.default_rng([3, 11])
    chars = hsk1_chars()
    drawings = [(c, synth.char(c, rng)) for _ in range(per_char) for c in chars]
    erase = getattr(prep, "erase_guides", None)
    print(f"| guide ({len(drawings)} drawings) | top-1, erased | answered Unknown | top-1, not erased "
          "| answered Unknown |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (kind, colour) in GUIDES.items():
        images = [with_guide(img, kind, colour) for _, img in drawings]
        cells = []
        for fn in (erase, lambda dark, contrast: dark):
            if fn is None:
                cells += ["—", "—"]
                continue
            prep.erase_guides = fn
            answers = [getattr(r, "char", None) for r in rec.classify_many(images)]
            cells += [f"{np.mean([a == c for a, (c, _) in zip(answers, drawings, strict=True)]):.3f}",
                      f"{np.mean([a == 'Unknown' for a in answers]):.3f}"]
        if erase is not None:
            prep.erase_guides = erase
        print(f"| {name} | " + " | ".join(cells) + " |")


def _tight(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img < 200)
    return img[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if ys.size else img


def _changes(rec: Recognizer, images: list[np.ndarray], labels: list[str]) -> str:
    """'inputs changed | answers changed | top-1 erased | top-1 not erased' over the images (top-1 over those of an
    HSK1 character)."""
    erase, inputs, answers = prep.erase_guides, [], []
    for fn in (erase, lambda dark, contrast: dark):
        prep.erase_guides = fn
        inputs.append([prep.preprocess(im, allow_blank=True) for im in images])
        answers.append([getattr(r, "char", None) for r in rec.classify_many(images)])
    prep.erase_guides = erase
    changed = sum(not np.array_equal(a, b) for a, b in zip(*inputs, strict=True))
    flips = sum(a != b for a, b in zip(*answers, strict=True))
    hsk1 = set(hsk1_chars())  # top-1 over the HSK1 characters among the labels
    top1 = [f"{np.mean(hits):.3f}" if (hits := [a == c for a, c in zip(ans, labels, strict=True) if c in hsk1])
            else "—" for ans in answers]
    return f"| {changed} | {flips} | {top1[0]} | {top1[1]} |"


def strokes(model: str | None = None, per_char: int = 4) -> None:
    """Inputs without guides: how many change when guides are erased, and how many answers."""
    rec = Recognizer.load(model)
    print("| source (no guide) | inputs | inputs changed | answers changed | top-1 erased | top-1 not erased |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    root = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
    for name in ("chinese_mnist_dev", "unipen_latin_dev"):
        data = np.load(root / f"{name}.npz")
        images, labels = list(data["images"]), [str(x) for x in data["labels"]]
        print(f"| {name} | {len(images)} " + _changes(rec, images, labels))
        if name == "chinese_mnist_dev":
            print(f"| {name}, cropped to the ink | {len(images)} " + _changes(rec, [_tight(i) for i in images], labels))
    cfg = json.loads((Path(__file__).parent / "bundled_config_phase7.json").read_text())["synth"]
    cfg = {k: v for k, v in cfg.items() if k not in ("unknown_weights", "fragment_hsk1_share")}
    chars = hsk1_chars()
    cases = [("training settings, 64 px", {}, 64, False), ("training settings, 128 px", {}, 128, False),
             ("training settings, cropped to the ink", {}, 128, True),
             ("a 0.5–1.5 % pen, cropped to the ink", {"pen_width": (0.005, 0.015)}, 128, True),
             ("fonts only, cropped to the ink", {"font_prob": 1.0}, 128, True)]
    for name, extra, canvas, tight in cases:
        synth = Synthesizer(config=SynthConfig(**{**cfg, **extra}), canvas=canvas)
        rng = np.random.default_rng(7)
        drawn = [(c, synth.char(c, rng)) for _ in range(per_char) for c in chars]
        images = [_tight(img) if tight else img for _, img in drawn]
        print(f"| synthesised, {name} | {len(images)} " + _changes(rec, images, [c for c, _ in drawn]))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--strokes"]
    run = strokes if "--strokes" in sys.argv[1:] else main
    run(args[0] if args else None, *([int(args[1])] if len(args) > 1 else []))
