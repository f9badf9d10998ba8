"""One handwriting sample as every reader yields it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Sample:
    """A uint8 image (dark ink 0 on light paper 255), its label, its writer and, for online data, its strokes."""

    image: np.ndarray
    label: str
    writer: str = ""
    strokes: list[np.ndarray] | None = field(default=None, repr=False)
