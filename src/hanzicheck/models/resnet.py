"""The spec's model: a ResNet-style CNN on 40×40×1 → 179-way softmax, with the 512-d embedding at layers[-2]."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import keras
from keras import layers

from ..data.charset import NUM_CLASSES
from .blocks import conv_bn_relu, head, stage

IMAGE_SIZE = 40  # the spec: 40×40 grayscale input (same value as data.preprocess.IMAGE_SIZE)


@dataclass(frozen=True)
class ModelConfig:
    """Width and depth of the ResNet; the defaults are the bundled model's (about 37 MFLOP per image)."""

    name: str = "resnet"
    stem: int = 24
    widths: tuple[int, ...] = (32, 64, 128)
    depths: tuple[int, ...] = (1, 1, 1)
    embedding_dim: int = 512
    num_classes: int = NUM_CLASSES
    image_size: int = IMAGE_SIZE
    dropout: float = 0.2
    bn_momentum: float = 0.99  # lower for very short runs, so the moving statistics catch up
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.depths) or not self.widths:
            raise ValueError(f"widths {self.widths} and depths {self.depths} must be non-empty and of equal length")
        if min(self.widths) < 1 or min(self.depths) < 1 or self.stem < 1:
            raise ValueError("stem, widths and depths must be positive")

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, ModelConfig] = {
    "resnet": ModelConfig(),
    "resnet-tiny": ModelConfig(stem=16, widths=(16, 32), depths=(1, 1), dropout=0.0, bn_momentum=0.8),
    "resnet-deep": ModelConfig(stem=24, widths=(32, 64, 128), depths=(1, 2, 2)),
    "resnet-wide": ModelConfig(stem=32, widths=(48, 96, 192), depths=(1, 2, 1)),
}


def create_model(config: ModelConfig | str | None = None, **overrides) -> keras.Model:
    """Build the classifier. ``config`` is a ModelConfig or a preset name; ``overrides`` replace its fields."""
    if config is None or isinstance(config, str):
        name = config or "resnet"
        if name not in PRESETS:
            raise ValueError(f"unknown model preset {name!r}; choose one of {sorted(PRESETS)}")
        config = PRESETS[name]
    if overrides:
        config = ModelConfig(**{**config.to_dict(), **overrides})
    inputs = keras.Input((config.image_size, config.image_size, 1), name="image")
    x = conv_bn_relu(inputs, config.stem, 1, "stem", config.bn_momentum)
    for i, (width, depth) in enumerate(zip(config.widths, config.depths, strict=True)):
        x = stage(x, width, depth, stride=2, name=f"stage{i + 1}", bn_momentum=config.bn_momentum)
    _, probs = head(x, config.embedding_dim, config.num_classes, config.dropout)
    return keras.Model(inputs, probs, name=config.name)


def embedding_model(model: keras.Model) -> keras.Model:
    """The spec's embedding model: input → ``model.layers[-2]`` output."""
    return keras.Model(model.input, model.layers[-2].output)


def count_flops(model: keras.Model) -> int:
    """Forward FLOPs (2 × multiply-adds) of the convolution and dense layers for one image."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            total += 2 * h * w * c_out * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return int(total)
