"""CLI verbs: train_cmds (filled in by its area)."""

from __future__ import annotations


def register(app) -> None:
    """Add this module's verbs to the app."""
