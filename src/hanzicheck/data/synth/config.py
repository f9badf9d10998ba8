"""The synthesiser's knobs, with defaults fitted to real native handwriting of the 178 HSK1 characters.

Measured on real handwriting: pen lifts are a median 0.62 of the reference stroke count (10th percentile 0.25,
90th 1.00) and only 17% of samples write every stroke separately; bounding-box width/height has median 0.87
(10th 0.58, 90th 1.31); ballpoint-like pens (2–5% of the character box) on clean paper match best.
Lengths are in units of the character box (the 1024 box of the stroke data = 1.0) unless said otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ...config_check import check_fields


@dataclass(frozen=True)
class SynthConfig:
    # pen
    pen_width: tuple[float, float] = (0.01, 0.03)  # of the character box; proxy on real: 2–5 % 0.68, 1.5–4 % 0.76, 1–3 % 0.80
    wide_pen_prob: float = 0.04  # sometimes a felt pen or brush-like width
    wide_pen_width: tuple[float, float] = (0.05, 0.09)
    pressure: float = 0.18  # log-normal spread of the per-stroke width
    min_pen_px: tuple[float, float] = (0.5, 1.1)  # on the canvas: small writing keeps a thin, greyish line
    stroke_ink_prob: float = 0.5  # samples whose strokes differ in darkness (ballpoint pressure, scans)
    stroke_ink: tuple[float, float] = (0.45, 1.0)
    # cursive joining: per sample, a join probability for each pair of consecutive strokes
    # fitted so that pen lifts / strokes over the HSK1 set come out 0.25 / 0.61 / 1.00 (10/50/90 %) with 19 % of
    # samples all separate (real: 0.25 / 0.62 / 1.00, 17 %); long pen travels are joined less often
    separate_prob: float = 0.08  # every stroke written on its own (one-stroke characters add to this)
    join_prob: tuple[float, float] = (0.25, 0.98)  # otherwise the hurry maps into this range
    connector_width: tuple[float, float] = (0.4, 1.0)  # pen travel drawn thinner than the strokes
    connector_ink: tuple[float, float] = (0.3, 1.0)  # ... and lighter (a hairline in fast writing)
    connector_bulge: float = 0.25  # curvature of the pen's travel, fraction of its length
    hook_drop_prob: float = 0.0  # × hurry: a stroke's end hook left out (亅, 乚, ㇆ written without the flick)
    dot_merge_prob: float = 0.0  # × hurry: a dot joined to the next stroke shrinks to where the pen came down
    component_join_prob: float = 0.0  # × hurry: a component of 2–4 strokes written in one go (讠, 口 as a loop, 氵)
    dot_length: float = 0.18  # strokes shorter than this (start to end, of the box) count as dots (讠's: 0.16)
    smooth_prob: float = 0.75  # round corners and joins (讠 and 灬 in one go, 口 with round corners)
    smooth: tuple[float, float] = (0.01, 0.05)  # Gaussian sigma along the line
    # geometry; local displacements are scaled per sample by a messiness drawn from ``messiness``, higher for
    # writers who join more (neat writers lift the pen and place strokes well)
    messiness: tuple[float, float] = (0.35, 1.35)
    slant: float = 0.16  # shear x += slant·y, normal spread (strong slant in the tails)
    slant_max: float = 0.55
    rise: float = 0.06  # horizontals climb to the right (y shear), as in real writing
    rise_sigma: float = 0.06
    rotation_deg: float = 5.0
    rotation_max_deg: float = 15.0
    aspect_log_mean: float = -0.17  # log(width/height) change: bbox ratio 0.59/0.88/1.31 (10/50/90%)
    aspect_log_sigma: float = 0.27  # (measured on real: 0.58/0.87/1.31)
    elastic: float = 0.022  # amplitude of the smooth random displacement field
    elastic_freq: tuple[float, float] = (0.4, 1.4)  # cycles per character box
    component_shift: float = 0.035
    component_scale: float = 0.1  # log-normal spread
    stroke_shift: float = 0.018
    stroke_rotation_deg: float = 5.0
    stroke_scale: float = 0.08
    stroke_stretch: float = 0.0  # log-normal spread of each stroke's own width and height, drawn apart
    stroke_outlier_prob: float = 0.0  # per stroke: a rotation and shrink far beyond the spreads above
    stroke_outlier_deg: tuple[float, float] = (15.0, 35.0)  # either way
    stroke_outlier_scale: tuple[float, float] = (0.4, 1.0)
    trim: float = 0.12  # up to this fraction of a stroke left out at either end
    extend: float = 0.06  # up to this much added along the end tangent
    wobble: float = 0.007  # amplitude of the smooth wobble along strokes
    wobble_freq: tuple[float, float] = (1.0, 4.0)  # cycles per character box of stroke length
    outline_prob: float = 0.04  # draw the filled reference outlines instead (font-like)
    # placement on the canvas
    size: tuple[float, float] = (0.55, 0.92)  # longer side of the character, fraction of the canvas
    # written small (real scans: 10–25 px characters in a 64 px frame), so that after cropping the strokes are
    # blurry and low-resolution like theirs: +18 points on real digits in a proxy test
    small_prob: float = 0.4
    small_size: tuple[float, float] = (0.15, 0.45)
    # paper and ink
    ink: tuple[int, int] = (0, 70)
    paper_tone_prob: float = 0.15
    paper_tone: tuple[int, int] = (205, 250)
    blur_prob: float = 0.3
    blur: tuple[float, float] = (0.3, 0.9)  # Gaussian radius in output pixels
    noise_prob: float = 0.3
    noise: tuple[float, float] = (2.0, 10.0)  # pixel noise sigma (0–255 scale)
    supersample: int = 2
    # handwriting fonts from npm (fonts.FONTS keys, e.g. fonts.TRAIN_FONTS): a share of the characters
    # drawn from a font that has the glyph in its simplified form, with the same placement, warp and paper
    fonts: tuple[str, ...] = ()
    font_prob: float = 0.3
    font_pen_prob: float = 0.5  # of those, the glyph's centre line redrawn with a ballpoint-like pen
    # Unknown class mixture (relative weights)
    unknown_weights: tuple[tuple[str, float], ...] = (
        ("other_char", 0.45), ("fragment", 0.12), ("latin", 0.18), ("mnist", 0.13), ("scribble", 0.12),
    )
    fragment_hsk1_share: float = 0.5  # of the fragments, the share cut from HSK1 characters (the rest: other hanzi)

    @classmethod
    def plain(cls, **overrides) -> SynthConfig:
        """No variation at all: the reference strokes with a fixed pen, size and clean paper (tests, diagnosis)."""
        still = dict(
            pen_width=(0.04, 0.04), wide_pen_prob=0.0, pressure=0.0, stroke_ink_prob=0.0, separate_prob=1.0, smooth_prob=0.0,
            slant=0.0, rise=0.0, rise_sigma=0.0, rotation_deg=0.0, aspect_log_mean=0.0, aspect_log_sigma=0.0, elastic=0.0,
            component_shift=0.0, component_scale=0.0, stroke_shift=0.0, stroke_rotation_deg=0.0,
            stroke_scale=0.0, trim=0.0, extend=0.0, wobble=0.0, outline_prob=0.0, size=(0.8, 0.8), small_prob=0.0, ink=(0, 0),
            paper_tone_prob=0.0, blur_prob=0.0, noise_prob=0.0,
        )
        return cls(**{**still, **overrides})

    @classmethod
    def from_overrides(cls, overrides: dict) -> SynthConfig:
        """The defaults with ``overrides`` (e.g. a JSON object) applied; ValueError naming any unknown knob."""
        if not isinstance(overrides, dict):
            raise ValueError(f"synthesiser overrides must be an object of SynthConfig fields, got {overrides!r}")
        check_fields(cls, overrides, "synthesiser settings")
        return cls(**overrides)

    def __post_init__(self) -> None:
        names = {f.name for f in fields(self)}
        for name in names:
            value = getattr(self, name)
            if isinstance(value, list):  # from JSON configs
                value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
                object.__setattr__(self, name, value)
            if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
                if value[0] > value[1]:
                    raise ValueError(f"SynthConfig.{name}: range {value} has low > high")
        if not isinstance(self.fonts, tuple) or not all(isinstance(f, str) for f in self.fonts):
            raise ValueError(f"SynthConfig.fonts: a list of font names (e.g. [\"long-cang\"]), got {self.fonts!r}")
        if self.supersample < 1:
            raise ValueError(f"SynthConfig.supersample must be ≥ 1, got {self.supersample}")
        if not 0.0 <= self.fragment_hsk1_share <= 1.0:
            raise ValueError(f"SynthConfig.fragment_hsk1_share must be in [0, 1], got {self.fragment_hsk1_share}")
        kinds = {k for k, _ in self.unknown_weights}
        bad = kinds - {"other_char", "fragment", "latin", "mnist", "scribble"}
        if bad:
            raise ValueError(f"SynthConfig.unknown_weights: unknown kinds {sorted(bad)}; valid: other_char, "
                             "fragment, latin, mnist, scribble")
