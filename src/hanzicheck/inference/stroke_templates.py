"""Stroke-drop templates: the model's mean embedding of a character written without each of its strokes.

Row 0 is the complete character, row ``k + 1`` the character without stroke ``k`` (standard order), each the
L2-normalised mean over ``per_stroke`` synthesised samples. A drawing whose embedding lies closer to row ``k + 1``
than to row 0 looks like the character without stroke ``k``: this names the missing stroke where the stroke
alignment (``diagnose``) cannot tell, e.g. when a neighbouring stroke's ink covers its place.

Templates are rendered on first use per character (~50 samples, ~0.1 s) with a seed fixed per character, so the
answer does not depend on which characters were asked for before; then cached for the recogniser's lifetime.
"""

from __future__ import annotations

import threading

import numpy as np

PER_STROKE = 8  # samples averaged per template
SEED = 12345


class DropTemplates:
    """Per-character stroke-drop templates for one recogniser (thread-safe)."""

    def __init__(self, recognizer, db=None, per_stroke: int = PER_STROKE, seed: int = SEED) -> None:
        self.recognizer, self.db, self.per_stroke, self.seed = recognizer, db, per_stroke, seed
        self._synth = None
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def get(self, char: str) -> np.ndarray:
        """float32 [n_strokes + 1, dim]: row 0 complete, row k + 1 without stroke k. KeyError without stroke data."""
        with self._lock:
            hit = self._cache.get(char)
            if hit is None:
                hit = self._cache[char] = self._build(char)
            return hit

    def _build(self, char: str) -> np.ndarray:
        from ..data.synth.synthesizer import Synthesizer

        if self._synth is None:
            self._synth = Synthesizer(db=self.db)
        n = len(self._synth.prepared(char).lines)
        rng = np.random.default_rng([self.seed, ord(char)])
        images = [self._synth.char(char, rng) for _ in range(self.per_stroke)]
        for k in range(n if n > 1 else 0):  # a one-stroke character has no "without a stroke"
            images += [self._synth.char(char, rng, drop=[k]) for _ in range(self.per_stroke)]
        emb = self.recognizer.embed(images).reshape(-1, self.per_stroke, self.recognizer.artifacts.embedding_dim)
        mean = emb.mean(axis=1)
        return (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)
