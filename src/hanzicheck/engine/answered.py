"""A model's answers on one labelled ``.npz`` (``images``, ``labels``, optional ``writers``): the class a user would
be shown, next to the truth and the writer of every sample. The scripts that report figures with intervals over
writers (``writer_intervals``, ``compare_models``, ``unknown_tradeoff``) all start here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.preprocess import preprocess
from ..inference.artifacts import DEFAULT_CONFIDENCE_THRESHOLD
from ..inference.recognizer import Recognizer, answers


@dataclass
class Answered:
    probs: np.ndarray  # calibrated probabilities [N, classes]
    pred: np.ndarray  # the answer a user sees: class index, Unknown by the 0.3 rule
    truth: np.ndarray  # class index; Unknown for every non-HSK1 label
    labels: np.ndarray  # str [N]
    writers: np.ndarray  # str [N]; one writer "0" when the file has none
    unknown: int  # Unknown's class index

    @property
    def known(self) -> np.ndarray:
        """HSK1 samples (the rest should be answered Unknown)."""
        return self.truth != self.unknown


def answer_npz(rec: Recognizer, path: str | Path) -> Answered:
    """Every sample of ``path`` preprocessed (blank images allowed) and answered by ``rec``."""
    with np.load(path) as z:
        images, labels = z["images"], z["labels"].astype(str)
        writers = z["writers"].astype(str) if "writers" in z.files else np.full(len(labels), "0")
    probs, _ = rec.run(np.stack([preprocess(im, allow_blank=True) for im in images]))
    unknown = len(rec.classes) - 1
    index = {c: i for i, c in enumerate(rec.classes)}
    truth = np.array([index.get(lab, unknown) for lab in labels])
    return Answered(probs, answers(probs, unknown, DEFAULT_CONFIDENCE_THRESHOLD), truth, labels, writers, unknown)
