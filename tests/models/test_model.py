"""The model matches the spec's layout, and its ONNX export computes the same thing."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from hanzicheck.engine.onnx_convert import keras_to_onnx  # noqa: E402
from hanzicheck.models import PRESETS, count_flops, create_model, embedding_model  # noqa: E402


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_layers_minus_two_is_the_512d_embedding(preset):
    model = create_model(preset)
    assert model.input.shape[1:] == (40, 40, 1)
    assert model.output.shape[-1] == 179
    assert model.layers[-2].name == "embedding"
    assert model.layers[-2].output.shape[-1] == 512


def test_default_model_fits_the_compute_budget():
    assert count_flops(create_model()) <= 150e6


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match="resnet"):
        create_model("resnet-huge")


def _randomise_batch_norm(model, rng):
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.moving_mean.shape
            layer.moving_mean.assign(rng.normal(0, 0.2, shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, shape).astype("float32"))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_onnx_export_matches_keras_within_1e4(preset):
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    model = create_model(preset)
    _randomise_batch_norm(model, rng)
    session = ort.InferenceSession(keras_to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"])
    x = rng.random((6, 40, 40, 1), dtype=np.float32)
    probs, emb = session.run(["probs", "embedding"], {"image": x})
    np.testing.assert_allclose(probs, model.predict(x, verbose=0), atol=1e-4)
    np.testing.assert_allclose(emb, embedding_model(model).predict(x, verbose=0), atol=1e-4)


def test_onnx_export_refuses_unsupported_layers():
    inputs = keras.Input((40, 40, 1))
    x = keras.layers.MaxPooling2D()(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(512, name="embedding")(x)
    model = keras.Model(inputs, keras.layers.Dense(179, activation="softmax")(x))
    with pytest.raises(ValueError, match="MaxPooling2D"):
        keras_to_onnx(model)
