"""Small named building blocks of the ResNet (plain Keras layers only, so the saved model loads anywhere)."""

from __future__ import annotations

import keras
from keras import layers


def conv_bn_relu(x, filters: int, stride: int, name: str, bn_momentum: float = 0.99):
    """3×3 convolution → batch norm → ReLU."""
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def basic_block(x, filters: int, stride: int, name: str, bn_momentum: float = 0.99):
    """The basic residual block of ResNet-18/34: two 3×3 convolutions with an identity (or 1×1) shortcut."""
    shortcut = x
    y = conv_bn_relu(x, filters, stride, f"{name}_a", bn_momentum)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_b_conv")(y)
    y = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_b_bn")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj_conv")(x)
        shortcut = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


def stage(x, filters: int, depth: int, stride: int, name: str, bn_momentum: float = 0.99):
    """``depth`` basic blocks; the first one changes resolution/width."""
    for i in range(depth):
        x = basic_block(x, filters, stride if i == 0 else 1, f"{name}_block{i}", bn_momentum)
    return x


def head(x, embedding_dim: int, num_classes: int, dropout: float) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Global pooling → 512-d linear ``embedding`` → softmax ``probs`` (so ``model.layers[-2]`` is the embedding)."""
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    emb = layers.Dense(embedding_dim, name="embedding")(x)
    probs = layers.Dense(num_classes, activation="softmax", name="probs")(emb)
    return emb, probs
