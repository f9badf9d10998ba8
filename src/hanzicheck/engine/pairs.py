"""Verification pairs (an image and the character it claims to be: genuine or an impostor) and the model
outputs they are scored on, shared by calibration (engine/calibrate.py) and evaluation (engine/evaluate.py).

Pairs come from labelled samples (``data_pairs`` / ``data_pair_rows``: genuine, wrong_char, lookalike and, for
non-HSK1 samples, ``unknown`` impostors) or from the synthesiser (``synth_pairs``: every impostor kind). A labelled
source is read, preprocessed and run through the model ``CHUNK`` samples at a time (``score_labelled``) and only its
``Outputs`` are kept; ``PairRows`` then name the row of their sample's outputs instead of holding an image copy, and
``pair_evidence`` gives the verify rule's evidence (inference/verdict.py) for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.charset import hsk1_chars
from ..data.preprocess import IMAGE_SIZE, InvalidImageError, preprocess
from ..data.synth.config import SynthConfig
from ..inference.verdict import Evidence
from .progress import progress

IMPOSTOR_KINDS = ("missing_stroke", "lookalike", "wrong_char", "extra_stroke")
CHUNK = 2048  # samples read, preprocessed and run through the model at a time (evaluate and calibrate stream)


@dataclass
class Pairs:
    """Preprocessed images with the character each claims to be, and whether that is true."""

    x: np.ndarray  # float32 [N, 40, 40]
    targets: list[str] = field(default_factory=list)
    genuine: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    kinds: list[str] = field(default_factory=list)  # "genuine" or an impostor kind ("unknown" for non-HSK1)
    real: np.ndarray | None = None  # bool [N]: from real handwriting (None: all synthesised)
    source: list[str] | None = None  # where each pair comes from (None: all "synth")

    def __len__(self) -> int:
        return len(self.targets)

    @staticmethod
    def empty() -> Pairs:
        return Pairs(np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32))

    @staticmethod
    def concat(parts: Sequence[Pairs]) -> Pairs:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Pairs.empty()
        return Pairs(np.concatenate([p.x for p in parts]), [t for p in parts for t in p.targets],
                     np.concatenate([p.genuine for p in parts]), [k for p in parts for k in p.kinds],
                     np.concatenate([p.is_real() for p in parts]), [s for p in parts for s in p.sources()])

    def is_real(self) -> np.ndarray:
        return np.zeros(len(self), bool) if self.real is None else np.asarray(self.real, bool)

    def sources(self) -> list[str]:
        return ["synth"] * len(self) if self.source is None else list(self.source)


@dataclass
class Outputs:
    """The model's outputs on samples, kept instead of their images: probabilities float32 [N, classes] (the
    network's own softmax or calibrated, as asked) and embeddings float32 [N, dim] (``pair_evidence``
    L2-normalises them)."""

    probs: np.ndarray
    emb: np.ndarray

    def __len__(self) -> int:
        return len(self.probs)

    @staticmethod
    def of(rec, x: np.ndarray, calibrated: bool = True) -> Outputs:
        probs, emb = rec.run(x, calibrated=calibrated)
        return Outputs(np.asarray(probs, np.float32), np.asarray(emb, np.float32))

    @staticmethod
    def concat(parts: Sequence[Outputs], rec) -> Outputs:
        if not parts:
            return Outputs.of(rec, np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32))
        return Outputs(np.concatenate([p.probs for p in parts]), np.concatenate([p.emb for p in parts]))


class OutputTable:
    """The outputs of every sample scored so far, one ``Outputs`` part per source; ``add`` returns the row its
    part starts at, ``done`` the whole table."""

    def __init__(self) -> None:
        self.parts: list[Outputs] = []
        self.rows = 0

    def add(self, out: Outputs) -> int:
        self.parts.append(out)
        self.rows += len(out)
        return self.rows - len(out)

    def done(self, rec) -> Outputs:
        table = self.parts[0] if len(self.parts) == 1 else Outputs.concat(self.parts, rec)
        self.parts = [table]
        return table


@dataclass
class PairRows:
    """Pairs that name the row of their image's model outputs (an ``OutputTable``) instead of holding the image."""

    rows: np.ndarray  # int64 [P]
    targets: list[str] = field(default_factory=list)
    genuine: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    kinds: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.targets)

    def shifted(self, first: int) -> PairRows:
        return PairRows(self.rows + first, self.targets, self.genuine, self.kinds, self.source)

    @staticmethod
    def of(pairs: Pairs, first: int = 0) -> PairRows:
        """``pairs`` whose images are the rows ``first``, ``first + 1`` … of the table, in order."""
        return PairRows(first + np.arange(len(pairs), dtype=np.int64), list(pairs.targets),
                        np.asarray(pairs.genuine, bool), list(pairs.kinds), pairs.sources())

    @staticmethod
    def concat(parts: Sequence[PairRows]) -> PairRows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return PairRows(np.zeros(0, np.int64))
        return PairRows(np.concatenate([p.rows for p in parts]), [t for p in parts for t in p.targets],
                        np.concatenate([p.genuine for p in parts]), [k for p in parts for k in p.kinds],
                        [s for p in parts for s in p.source])


def synth_pairs(per_char: int, seed: int = 0, chars: Sequence[str] | None = None,
                kinds: Sequence[str] = IMPOSTOR_KINDS, show: bool = False, config: SynthConfig | None = None) -> Pairs:
    """``per_char`` genuine and ``per_char`` impostor pairs per character, impostor kinds in turn.

    The synthesiser falls back to another kind when one is impossible (no look-alike → wrong_char; no droppable
    stroke → extra_stroke); ``kinds`` records what was really drawn."""
    from ..data.synth.synthesizer import Synthesizer

    synth = Synthesizer(config=config)
    rng = np.random.default_rng(seed)
    chars = list(chars or hsk1_chars())
    xs, targets, genuine, kind_list = [], [], [], []
    with progress(len(chars) * per_char * 2, "synthesising pairs", show) as advance:
        for ci, c in enumerate(chars):
            for i in range(ci, ci + per_char):  # kinds in turn, starting one further for each character
                xs.append(preprocess(synth.char(c, rng), allow_blank=True))
                targets.append(c)
                genuine.append(True)
                kind_list.append("genuine")
                img, info = _negative(synth, c, kinds[i % len(kinds)], rng)
                xs.append(preprocess(img, allow_blank=True))
                targets.append(c)
                genuine.append(False)
                kind_list.append(str(info.get("kind", kinds[i % len(kinds)])))
                advance(2)
    return Pairs(np.stack(xs), targets, np.array(genuine), kind_list)


def _negative(synth, char: str, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    try:
        return synth.negative(char, kind, rng)
    except (ValueError, IndexError):  # a drop the synthesiser cannot make for this character: another kind
        return synth.negative(char, "wrong_char", rng)


def data_pairs(x: np.ndarray, labels: Sequence[str], seed: int = 0, chars: Sequence[str] | None = None,
               source: str = "data") -> Pairs:
    """From labelled samples: each HSK1 sample is a genuine pair, a wrong_char impostor against a random other
    character and, when it has HSK1 look-alikes (大/太, 日/目 …), a lookalike impostor against one of them; a
    non-HSK1 sample (a real Unknown) is an impostor against a random character."""
    p = data_pair_rows(labels, seed, chars, source)
    return Pairs(x[p.rows], p.targets, p.genuine, p.kinds, np.ones(len(p), bool), p.source)


def data_pair_rows(labels: Sequence[str], seed: int = 0, chars: Sequence[str] | None = None,
                   source: str = "data") -> PairRows:
    """``data_pairs`` by sample index (the row of each pair's sample), without the images."""
    from ..data.lookalikes import hsk1_lookalikes

    chars = list(chars or hsk1_chars())
    known = set(chars)
    alike = {c: [o for o in v if o in known] for c, v in hsk1_lookalikes().items()}
    rng = np.random.default_rng(seed)
    idx, targets, genuine, kinds = [], [], [], []
    for i, label in enumerate(labels):
        other = chars[int(rng.integers(len(chars)))]
        if label in known:
            while other == label:
                other = chars[int(rng.integers(len(chars)))]
            idx += [i, i]
            targets += [label, other]
            genuine += [True, False]
            kinds += ["genuine", "wrong_char"]
            if alike.get(label):
                idx.append(i)
                targets.append(alike[label][int(rng.integers(len(alike[label])))])
                genuine.append(False)
                kinds.append("lookalike")
        else:
            idx.append(i)
            targets.append(other)
            genuine.append(False)
            kinds.append("unknown")
    return PairRows(np.array(idx, np.int64), targets, np.array(genuine, bool), kinds, [source] * len(idx))


def pair_evidence(rec, pairs: Pairs | PairRows, probs: np.ndarray, emb: np.ndarray,
                  drops=None) -> tuple[Evidence, np.ndarray]:
    """The verify rule's evidence (inference/verdict.py) for pairs whose target has a template, and that mask.
    ``probs`` (calibrated) and ``emb`` are the model's outputs: one row per pair for ``Pairs``, the table
    ``PairRows.rows`` points into for those; ``drops``: default the artifacts'. Computed ``CHUNK`` pairs at a time."""
    from ..inference.verdict import evidence

    art = rec.artifacts
    rows_of, class_of = art.char_index(), {c: i for i, c in enumerate(art.classes)}
    ok = np.array([t in rows_of for t in pairs.targets], bool)
    at = (pairs.rows if isinstance(pairs, PairRows) else np.arange(len(pairs)))[ok]
    targets = [t for t, k in zip(pairs.targets, ok, strict=True) if k]
    classes = np.array([class_of[t] for t in targets], np.int64)
    template_rows = np.array([rows_of[t] for t in targets], np.int64)
    drops = art.drops if drops is None else drops
    parts = []
    for i in range(0, max(1, len(at)), CHUNK):
        e = emb[at[i:i + CHUNK]]
        unit = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-8)
        parts.append(evidence(probs[at[i:i + CHUNK]], unit, classes[i:i + CHUNK], template_rows[i:i + CHUNK],
                              art.templates, drops))
    ev = Evidence(*(np.concatenate([getattr(p, f) for p in parts]) for f in Evidence.__dataclass_fields__))
    return ev, ok


def _read_chunks(path: str | os.PathLike, limit: int | None, show: bool, chunk: int | None,
                 skipped: list[int]) -> Iterator[tuple[np.ndarray, list[str]]]:
    """Preprocessed images and labels of any reader's source, ``chunk`` usable samples at a time (None: all at
    once), with a progress bar; ``skipped[0]`` counts the samples with no usable image."""
    from ..data.formats.registry import iter_samples

    xs, labels = [], []
    with progress(limit, f"reading {Path(path).name}", show) as advance:  # total unknown without a limit
        for s in iter_samples(path, limit=limit):
            try:
                xs.append(preprocess(s.image))
                labels.append(s.label)
            except InvalidImageError:
                skipped[0] += 1
            advance(1)
            if chunk and len(xs) >= chunk:
                yield np.stack(xs), labels
                xs, labels = [], []
    if xs:
        yield np.stack(xs), labels


def load_labelled(path: str | os.PathLike, limit: int | None = None,
                  show: bool = False) -> tuple[np.ndarray, list[str], int]:
    """Preprocessed images and labels of any reader's source; also how many samples had no usable image."""
    skipped = [0]
    empty = (np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32), [])
    x, labels = next(_read_chunks(path, limit, show, None, skipped), empty)  # one chunk, after the whole source
    return x, labels, skipped[0]


def score_labelled(rec, path: str | os.PathLike, limit: int | None = None, show: bool = False,
                   calibrated: bool = True, chunk: int | None = None) -> tuple[Outputs, list[str], int]:
    """``load_labelled`` batch by batch: ``chunk`` samples (default ``CHUNK``) at a time are read, preprocessed
    and run through ``rec``, and only their ``Outputs`` are kept, so memory grows with those (2.7 KB a sample for the
    bundled model), never with the images; a source larger than memory can be scored."""
    parts, labels, skipped = [], [], [0]
    for x, part in _read_chunks(path, limit, show, chunk or CHUNK, skipped):
        parts.append(Outputs.of(rec, x, calibrated))
        labels += part
    return (parts[0] if len(parts) == 1 else Outputs.concat(parts, rec)), labels, skipped[0]


