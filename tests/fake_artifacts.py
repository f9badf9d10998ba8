"""A hand-built ONNX model with the artifacts contract, for fast recogniser/CLI tests without training.

embedding = (1 − image) · W (a fixed random projection of the ink); probs = softmax(20 · cos(embedding, class
vectors)). The class vectors of 一 十 日 人 are the embeddings of the drawings in ``drawings()``, so those four are
recognised and verified, and a ring is Unknown; every other class gets a random vector.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hanzicheck.data.charset import classes, hsk1_chars
from hanzicheck.data.preprocess import PREPROCESS_VERSION, preprocess

DIM = 64
SCALE = 20.0


def drawings(size: int = 64) -> dict[str, np.ndarray]:
    """uint8 dark-on-light drawings of 一 十 日 人, and a ring (the Unknown class's vector)."""
    def blank() -> np.ndarray:
        return np.full((size, size), 255, np.uint8)

    one = blank()
    one[30:35, 8:56] = 0
    ten = blank()
    ten[30:35, 8:56] = 0
    ten[8:56, 30:35] = 0
    sun = blank()
    sun[8:56, 16:21] = sun[8:56, 43:48] = sun[8:13, 16:48] = sun[30:34, 16:48] = sun[51:56, 16:48] = 0
    person = blank()
    for i in range(40):
        person[12 + i, 31 - i // 2:35 - i // 2] = 0
        person[12 + i, 31 + i // 2:35 + i // 2] = 0
    ring = blank()
    yy, xx = np.indices((size, size))
    r = np.hypot(yy - size / 2, xx - size / 2)
    ring[(r > 18) & (r < 23)] = 0
    return {"一": one, "十": ten, "日": sun, "人": person, "Unknown": ring}


def _weights(seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=(1600, DIM)) / 40.0).astype(np.float32)


def embed(x: np.ndarray) -> np.ndarray:
    """The fake model's raw embedding of preprocessed images [N, 40, 40(, 1)]."""
    return ((1.0 - x.reshape(len(x), 1600)) @ _weights()).astype(np.float32)


def write_fake_artifacts(out: Path, thresholds: np.ndarray | None = None, similarity_threshold: float = 0.9) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    chars = list(hsk1_chars())
    vectors = rng.normal(size=(len(classes()), DIM)).astype(np.float32)
    for c, img in drawings().items():
        vectors[classes().index(c)] = embed(preprocess(img)[None])[0]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    nodes = [
        helper.make_node("Reshape", ["image", "shape"], ["flat"]),
        helper.make_node("Sub", ["one", "flat"], ["ink"]),
        helper.make_node("MatMul", ["ink", "W"], ["embedding"]),
        helper.make_node("LpNormalization", ["embedding"], ["unit"], axis=1, p=2),
        helper.make_node("MatMul", ["unit", "V"], ["cos"]),
        helper.make_node("Mul", ["cos", "scale"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    inits = [numpy_helper.from_array(np.array([-1, 1600], np.int64), "shape"),
             numpy_helper.from_array(np.array(1.0, np.float32), "one"),
             numpy_helper.from_array(_weights(), "W"),
             numpy_helper.from_array(np.ascontiguousarray(vectors.T), "V"),
             numpy_helper.from_array(np.array(SCALE, np.float32), "scale")]
    graph = helper.make_graph(
        nodes, "fake", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 40, 40, 1])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", len(classes())]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", DIM])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out / "model.onnx")
    arrays = {"chars": np.array(chars), "embeddings": vectors[:len(chars)]}
    if thresholds is not None:
        arrays["thresholds"] = thresholds.astype(np.float32)
    np.savez(out / "templates.npz", **arrays)
    meta = {"classes": list(classes()), "image_size": 40, "embedding_dim": DIM,
            "preprocess_version": PREPROCESS_VERSION, "confidence_threshold": 0.3,
            "similarity_threshold": similarity_threshold, "hanzicheck_version": "test"}
    (out / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return out


def add_verdict_rule(folder: Path, verdict: dict, thresholds: float | None = None,
                     drop_rows: dict[str, list[np.ndarray]] | None = None) -> Path:
    """Give a fake artifacts folder a fitted verify rule: ``verdict`` weights in metadata.json, one threshold for
    every character, and stroke-drop templates (``drop_rows``: character → [complete, without stroke 0, …] drawings,
    embedded by the fake model) in templates.npz."""
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    (folder / "metadata.json").write_text(json.dumps({**meta, "verdict": verdict}, ensure_ascii=False),
                                          encoding="utf-8")
    with np.load(folder / "templates.npz") as z:
        arrays = {k: z[k] for k in z.files}
    chars = [str(c) for c in arrays["chars"]]
    if thresholds is not None:
        arrays["thresholds"] = np.full(len(chars), thresholds, np.float32)
    if drop_rows:
        blocks, offsets = [], [0]
        for c in chars:
            images = drop_rows.get(c, [])
            emb = embed(np.stack([preprocess(im) for im in images])) if images else np.zeros((0, DIM), np.float32)
            blocks.append(emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-8))
            offsets.append(offsets[-1] + len(images))
        arrays["drop_templates"] = np.concatenate(blocks).astype(np.float16)
        arrays["drop_offsets"] = np.array(offsets, np.int32)
    np.savez(folder / "templates.npz", **arrays)
    return folder


def vertical_bar(size: int = 64) -> np.ndarray:
    """十 without its horizontal stroke (stroke 0)."""
    img = np.full((size, size), 255, np.uint8)
    img[8:56, 30:35] = 0
    return img
