"""Keras model definitions (training side only; inference never imports this)."""

from .resnet import PRESETS, ModelConfig, count_flops, create_model, embedding_model

__all__ = ["PRESETS", "ModelConfig", "count_flops", "create_model", "embedding_model"]
