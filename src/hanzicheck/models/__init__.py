"""Keras model definitions (training side only; inference never imports this)."""
