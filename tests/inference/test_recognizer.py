"""Recogniser and artifacts loading, on a hand-built ONNX model (fake_artifacts) and the tiny trained model."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image

from fake_artifacts import DIM, drawings, write_fake_artifacts
from hanzicheck.data.charset import hsk1_chars
from hanzicheck.data.preprocess import InvalidImageError
from hanzicheck.inference.artifacts import ArtifactsError, bundled_path, load_artifacts
from hanzicheck.inference.recognizer import Recognizer
from hanzicheck.inference.results import Classification, ItemError, Verification


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory):
    return write_fake_artifacts(tmp_path_factory.mktemp("fake"))


@pytest.fixture(scope="module")
def rec(fake_dir):
    return Recognizer.load(fake_dir)


def test_classify_single_image(rec):
    res = rec.classify(drawings()["十"], top_k=3)
    assert isinstance(res, Classification)
    assert res.char == "十" and res.confidence > 0.9
    assert [c for c, _ in res.top_k][:2] == ["十", "一"] and len(res.top_k) == 3


def test_classify_batch_keeps_order_and_input_kinds(rec):
    d = drawings()
    inputs = [d["人"], Image.fromarray(d["日"]), 255 - d["一"]]  # array, PIL, light-on-dark
    assert [r.char for r in rec.classify(inputs)] == ["人", "日", "一"]
    assert [r.char for r in rec.classify(np.stack([d["十"], d["人"]]))] == ["十", "人"]


def test_unknown_class_wins(rec):
    res = rec.classify(drawings()["Unknown"])
    assert res.char == "Unknown" and res.top_k[0][0] == "Unknown"


def test_low_confidence_is_unknown(tmp_path, fake_dir):
    meta = json.loads((fake_dir / "metadata.json").read_text(encoding="utf-8"))
    folder = write_fake_artifacts(tmp_path / "strict")
    meta["confidence_threshold"] = 0.995  # 一 scores 0.990 (十 shares its stroke)
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    res = Recognizer.load(folder).classify(drawings()["一"])
    assert res.char == "Unknown" and res.top_k[0][0] == "一"


def test_verify_verdicts_use_metadata_threshold(rec):
    d = drawings()
    ok = rec.verify(d["十"], "十")
    assert isinstance(ok, Verification) and ok.verdict == "correct" and ok.threshold == pytest.approx(0.9)
    wrong = rec.verify(d["一"], "十")  # 一 is 十 with a stroke missing
    assert wrong.verdict == "incomplete_or_unclear" and wrong.similarity < 0.9
    bad = rec.verify(d["十"], "龍")
    assert bad.verdict == "invalid_target" and bad.similarity is None


def test_verify_uses_calibrated_thresholds(tmp_path):
    th = np.full(len(hsk1_chars()), 0.5, np.float32)
    folder = write_fake_artifacts(tmp_path / "cal", thresholds=th)
    res = Recognizer.load(folder).verify(drawings()["一"], "十")  # similarity ≈ 0.77
    assert res.verdict == "correct" and res.threshold == pytest.approx(0.5)


def test_verify_batch_with_targets(rec):
    d = drawings()
    res = rec.verify([d["十"], d["人"]], ["十", "十"])
    assert [r.verdict for r in res] == ["correct", "incomplete_or_unclear"]
    with pytest.raises(ValueError, match="2 images but 1 targets"):
        rec.verify([d["十"], d["人"]], ["十"])


def test_classify_many_answers_each_input_and_names_the_unreadable_ones(rec, tmp_path):
    d = drawings()
    good = tmp_path / "ten.png"
    Image.fromarray(d["十"]).save(good)
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    blank = np.full((64, 64), 255, np.uint8)
    read = []
    res = rec.classify_many([good, text, d["人"], b"garbage", blank, str(tmp_path / "gone.png")], top_k=2,
                            on_read=read.append)
    assert len(res) == 6 and read == [1] * 6
    assert [r.char for r in (res[0], res[2])] == ["十", "人"]
    assert res[0] == rec.classify(good, top_k=2) and res[2] == rec.classify(d["人"], top_k=2)  # as one at a time
    errors = {r.index: r for r in res if isinstance(r, ItemError)}
    assert sorted(errors) == [1, 3, 4, 5]
    assert errors[1].item == str(text) and str(text) in errors[1].error
    assert errors[3].item == "item 3" and "the given bytes" in errors[3].error
    assert errors[4].item == "item 4" and "no ink" in errors[4].error
    assert errors[5].item == str(tmp_path / "gone.png") and "gone.png" in errors[5].error
    assert errors[3].to_dict() == {"item": "item 3", "error": errors[3].error}


def test_classify_many_uses_the_callers_names_and_takes_none(rec):
    res = rec.classify_many([drawings()["十"], b"x"], names=["a.png", "b.png"])
    assert res[0].char == "十" and res[1] == ItemError(1, "b.png", res[1].error) and res[1].error.startswith("b.png")
    assert rec.classify_many([]) == []
    with pytest.raises(ValueError, match="2 inputs but 1 names"):
        rec.classify_many([b"x", b"y"], names=["a"])


def test_verify_many_answers_each_input_against_its_target(rec):
    d = drawings()
    res = rec.verify_many([d["十"], b"not an image", d["人"], d["十"]], ["十", "十", "十", "龍"])
    assert [getattr(r, "verdict", None) for r in res] == ["correct", None, "incomplete_or_unclear", "invalid_target"]
    assert isinstance(res[1], ItemError) and res[1].item == "item 1"
    assert res[0] == rec.verify(d["十"], "十")
    assert [r.verdict for r in rec.verify_many([d["十"], d["一"]], "十")] == ["correct", "incomplete_or_unclear"]
    with pytest.raises(ValueError, match="2 images but 1 targets"):
        rec.verify_many([d["十"], d["人"]], ["十"])


def test_embed_is_normalised(rec):
    one = rec.embed(drawings()["人"])
    many = rec.embed(list(drawings().values()))
    assert one.shape == (DIM,) and many.shape == (5, DIM)
    assert np.allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)


def test_to_dict_fields(rec):
    d = drawings()
    c = rec.classify(d["十"], top_k=2).to_dict()
    assert list(c) == ["char", "confidence", "top_k"] and c["top_k"][0][0] == "十"
    v = rec.verify(d["十"], "十").to_dict()
    assert list(v) == ["target", "verdict", "similarity", "threshold", "score", "probability", "rank", "reason",
                       "other", "missing_stroke"]
    json.dumps([c, v])


def test_threads_share_one_recognizer(rec):
    d = drawings()
    images = [d[c] for c in ("一", "十", "日", "人")] * 4
    expected = [r.char for r in rec.classify(images)]
    got: list[list[str]] = []

    def work():
        got.append([r.char for r in rec.classify(images)])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [expected] * 4


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(ArtifactsError, match="model.onnx, templates.npz, metadata.json"):
        load_artifacts(tmp_path / "nope")


def test_a_file_given_as_the_folder_is_called_a_file(tmp_path, fake_dir):
    (tmp_path / "model.onnx").write_bytes((fake_dir / "model.onnx").read_bytes())
    with pytest.raises(ArtifactsError, match=r"model.onnx: a file, not a folder"):
        load_artifacts(tmp_path / "model.onnx")


def test_the_package_exports_the_recognizer_without_loading_onnxruntime_at_import():
    import subprocess
    import sys

    code = ("import sys, hanzicheck; assert 'onnxruntime' not in sys.modules; "
            "from hanzicheck import Recognizer, InvalidImageError; "
            "from hanzicheck.inference.recognizer import Recognizer as R; assert Recognizer is R; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_missing_file_is_named(tmp_path, fake_dir):
    folder = write_fake_artifacts(tmp_path / "partial")
    (folder / "templates.npz").unlink()
    with pytest.raises(ArtifactsError, match="missing templates.npz"):
        load_artifacts(folder)


def test_preprocess_version_mismatch(tmp_path):
    folder = write_fake_artifacts(tmp_path / "old")
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    meta["preprocess_version"] = 99
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactsError, match="preprocessing v99"):
        load_artifacts(folder)


def test_thresholds_of_wrong_length(tmp_path):
    folder = write_fake_artifacts(tmp_path / "badth", thresholds=np.full(5, 0.5))
    with pytest.raises(ArtifactsError, match="thresholds shape"):
        load_artifacts(folder)


def test_corrupt_onnx(tmp_path):
    folder = write_fake_artifacts(tmp_path / "corrupt")
    (folder / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ArtifactsError, match="ONNX Runtime cannot load it"):
        Recognizer.load(folder)


def test_model_outputs_must_match_the_classes(tmp_path):
    folder = write_fake_artifacts(tmp_path / "mismatch")
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    meta["classes"] = meta["classes"][:-1] + ["龍", "Unknown"]  # 180 classes, the model gives 179
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactsError, match="expected output 'probs'"):
        Recognizer.load(folder)


def test_bundled_path_is_inside_the_package():
    assert bundled_path().parts[-3:] == ("hanzicheck", "assets", "model")


def test_bundled_model_loads_when_present():
    if not (bundled_path() / "model.onnx").is_file():
        pytest.skip("no bundled model yet (assets/model)")
    rec = Recognizer.load()
    assert rec.classify(drawings()["十"]).char in rec.classes


def test_tiny_trained_model_recognises_its_characters(tiny_artifacts):
    from conftest import TINY_CHARS
    from hanzicheck.data.synth.synthesizer import Synthesizer

    rec = Recognizer.load(tiny_artifacts)
    rng = np.random.default_rng(123)
    synth = Synthesizer()
    images = [synth.char(c, rng) for c in TINY_CHARS for _ in range(3)]
    labels = [c for c in TINY_CHARS for _ in range(3)]
    got = [r.char for r in rec.classify(images)]
    accuracy = np.mean([g == t for g, t in zip(got, labels, strict=True)])
    assert accuracy > 0.5, got
    genuine = [v.similarity for v in rec.verify(images, labels)]
    impostor = [v.similarity for v in rec.verify(images, labels[3:] + labels[:3])]
    assert np.mean(genuine) > np.mean(impostor)


@pytest.mark.parametrize("target", [None, 3, b"\xe5\x8d\x81"])
def test_a_target_that_is_not_text_is_a_type_error_naming_it(rec, target):
    d = drawings()
    calls = [lambda: rec.verify(d["十"], target), lambda: rec.verify_many([d["十"]], target),
             lambda: rec.diagnose_many([d["十"]], target), lambda: rec.verify([d["十"]], [target])]
    for call in calls:
        with pytest.raises(TypeError, match=r"^target: expected one character \(a str\) or one per input, got "):
            call()


def test_many_calls_refuse_one_input_given_alone(rec, tmp_path):
    """A lone path would be read character by character, bytes byte by byte, an image row by row."""
    ten = drawings()["十"]
    path = tmp_path / "ten.png"
    Image.fromarray(ten).save(path)
    for one in (str(path), path, path.read_bytes(), ten, Image.fromarray(ten)):
        for call in (rec.classify_many, lambda x: rec.verify_many(x, "十"), lambda x: rec.diagnose_many(x, "十")):
            with pytest.raises(TypeError, match=r"^expected a list of inputs, got one \w+: put it in a list"):
                call(one)
    assert rec.classify_many([path])[0] == rec.classify(path)


def test_a_bad_image_in_a_batch_is_named_by_its_place(rec, tmp_path):
    d = drawings()
    blank = np.full((64, 64), 255, np.uint8)
    with pytest.raises(InvalidImageError, match=r"^item 1: no ink"):
        rec.classify([d["十"], blank])
    with pytest.raises(InvalidImageError, match=r"^item 2 is not an image"):
        rec.verify([d["十"], d["人"], b"garbage"], "十")
    gone = tmp_path / "gone.png"
    with pytest.raises(InvalidImageError, match=rf"^{gone}: cannot read it"):  # a path names itself
        rec.embed([d["十"], gone])


@pytest.mark.parametrize("doc", ["docs/ARCHITECTURE.md", "README.md"])
def test_the_docs_list_every_field_of_each_result(doc):
    """Each ``Name(field, ...)`` the docs show for a result names that dataclass's fields, in order."""
    import dataclasses
    import re
    from pathlib import Path

    from hanzicheck.inference.diagnose import Diagnosis

    text = (Path(__file__).resolve().parents[2] / doc).read_text(encoding="utf-8")
    shown = 0
    for cls in (Classification, Verification, Diagnosis, ItemError):
        for args in re.findall(rf"\b{cls.__name__}\(([^)]*)\)", text):
            names = [re.match(r"\s*#?\s*(\w+)", a).group(1) for a in re.sub(r"\[[^]]*\]", "", args).split(",")
                     if a.strip(" #\n")]
            assert names == [f.name for f in dataclasses.fields(cls)], f"{doc}: {cls.__name__}({args})"
            shown += 1
    assert shown >= 3


@pytest.mark.parametrize("bad", [0, -2, 1.5, "x", None, True])
def test_top_k_below_one_or_not_whole_is_a_value_error_naming_it(rec, bad):
    with pytest.raises(ValueError, match=r"^top_k: expected a whole number of at least 1, got "):
        rec.classify(drawings()["十"], top_k=bad)


def test_top_k_above_the_classes_gives_every_class(rec):
    assert len(rec.classify(drawings()["十"], top_k=10_000).top_k) == len(rec.classes)


@pytest.mark.parametrize("bad", [0, -1, "x"])
def test_threads_below_one_is_a_value_error_naming_it(fake_dir, bad):
    with pytest.raises(ValueError, match=r"^threads: expected a whole number of at least 1"):
        Recognizer.load(fake_dir, threads=bad)
