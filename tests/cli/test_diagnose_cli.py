"""The ``hanzicheck diagnose`` verb: the bundled model's verdict by default, JSON fields, pen-stroke files, overlay
PNG, exit status 2 and one line on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from hanzicheck.data.render import render_strokes

typer_testing = pytest.importorskip("typer.testing")


@pytest.fixture(scope="module")
def app():
    from hanzicheck.cli import build_app

    return build_app()


def run(app, *args):
    return typer_testing.CliRunner().invoke(app, ["diagnose", *map(str, args)])


def one_line(res) -> str:
    """The exit-2 answer's one stderr line (no traceback)."""
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1 and "Traceback" not in res.output, res.output
    return lines[0]


@pytest.fixture
def drawing(db, tmp_path):
    """我 without its last stroke (the dot), drawn as a learner's canvas export."""
    strokes = [m for i, m in enumerate(db.get("我").medians) if i != 6]
    path = tmp_path / "wo.png"
    Image.fromarray(render_strokes(strokes, size=200, pen_width=0.05)).save(path)
    return path


def test_json_fields(app, drawing):
    res = run(app, drawing, "--target", "我", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert list(out) == ["file", "target", "verdict", "similarity", "missing_strokes", "stroke_scores", "extra_ink",
                         "stroke_order"]
    assert out["file"] == str(drawing)
    assert out["stroke_order"] is None  # an image has no stroke order
    assert out["target"] == "我"
    assert out["verdict"] == "incomplete_or_unclear"
    assert out["missing_strokes"][:1] == [6]
    assert len(out["stroke_scores"]) == 7


def test_strokes_json_file(app, db, tmp_path):
    path = tmp_path / "strokes.json"
    path.write_text(json.dumps({"strokes": [m.tolist() for m in db.get("大").medians]}))
    res = run(app, path, "--target", "大", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["verdict"], out["missing_strokes"]) == ("correct", [])


def _swapped_wo(db, tmp_path):
    """我 written in pen strokes, its strokes 2 and 3 (from 0) swapped."""
    strokes = [m.tolist() for m in db.get("我").medians]
    strokes[2], strokes[3] = strokes[3], strokes[2]
    path = tmp_path / "wo.json"
    path.write_text(json.dumps(strokes))
    return path


def test_strokes_json_gets_the_stroke_order(app, db, tmp_path):
    res = run(app, _swapped_wo(db, tmp_path), "--target", "我", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["stroke_order"] == {"drawn_as": [[0], [1], [3], [2], [4], [5], [6]], "out_of_order": [3],
                                   "reversed": []}


def test_stroke_order_is_one_line_counted_from_1(app, db, tmp_path):
    res = run(app, _swapped_wo(db, tmp_path), "--target", "我")
    assert res.exit_code == 0, res.output
    first, second = res.stdout.strip().splitlines()
    assert "missing strokes: none" in first
    assert second == "stroke order: stroke 4 drawn before stroke 3"


def test_overlay_written(app, drawing, tmp_path):
    out = tmp_path / "sub" / "overlay.png"
    res = run(app, drawing, "--target", "我", "--overlay", out)
    assert res.exit_code == 0, res.output
    assert "missing strokes: 7;" in res.stdout  # stroke 6 from 0, counted from 1 for people
    with Image.open(out) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    red = (rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    green = (rgb[..., 1] > 120) & (rgb[..., 0] < 80)
    assert red.sum() > 50 and green.sum() > 200  # the missing dot in red, the other strokes in green


@pytest.mark.parametrize("target", ["ZZ", "☃", ""])
def test_unknown_target_exits_2(app, drawing, target):
    res = run(app, drawing, "--target", target)
    assert res.exit_code == 2
    assert "unknown target" in res.stderr


def test_unreadable_file_exits_2(app, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    res = run(app, bad, "--target", "我")
    assert res.exit_code == 2
    assert "not an image" in res.stderr and str(bad) in res.stderr
    res = run(app, tmp_path / "missing.png", "--target", "我")
    assert res.exit_code == 2
    assert "no such file" in res.stderr


def test_blank_image_exits_2(app, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    res = run(app, blank, "--target", "我")
    assert res.exit_code == 2
    assert "no ink" in res.stderr


def test_too_small_image_names_the_file(app, tmp_path):
    tiny = tmp_path / "one_px.png"
    Image.new("L", (1, 1), 0).save(tiny)
    res = run(app, tiny, "--target", "十")
    assert res.exit_code == 2
    assert f"{tiny}: expected an image of at least 8×8 pixels" in res.stderr


def test_model_gives_verdict_and_similarity(app, tmp_path):
    from fake_artifacts import drawings, write_fake_artifacts
    from hanzicheck.inference.recognizer import Recognizer

    model = write_fake_artifacts(tmp_path / "model")
    path = tmp_path / "shi.png"
    Image.fromarray(drawings()["十"]).save(path)
    res = run(app, path, "--target", "十", "--json", "--model", model)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    ver = Recognizer.load(model).verify(str(path), "十")
    assert (out["verdict"], out["similarity"]) == (ver.verdict, round(ver.similarity, 4))
    assert out["missing_strokes"] == []


def test_bad_model_folder_exits_2(app, drawing, tmp_path):
    res = run(app, drawing, "--target", "我", "--model", tmp_path / "nowhere")
    assert res.exit_code == 2
    assert "no such folder" in res.stderr and str(tmp_path / "nowhere") in res.stderr


# ------------------------------------------------------------------ the bundled model by default


def test_one_dot_is_no_strokes_exit_2(app, tmp_path):
    dot = tmp_path / "dot.png"
    pixels = np.full((64, 64), 255, np.uint8)
    pixels[30:34, 30:34] = 0  # a single 4-pixel dot: nothing to diagnose, as classify and verify say
    Image.fromarray(pixels).save(dot)
    res = run(app, dot, "--target", "我", "--json")
    assert res.exit_code == 2, res.output
    assert "no strokes" in res.stderr and str(dot) in res.stderr


def test_real_bai_is_not_passed_as_ba(app, real_data, tmp_path):
    """A real writer's 百 (Chinese MNIST) is not 八, whose two strokes it happens to contain."""
    data = np.load(real_data / "chinese_mnist_dev.npz")
    path = tmp_path / "bai.png"
    Image.fromarray(data["images"][list(data["labels"]).index("百")]).save(path)
    res = run(app, path, "--target", "八", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["verdict"] == "incomplete_or_unclear"


def test_default_answer_is_the_python_apis(app, drawing):
    from hanzicheck.inference.recognizer import Recognizer

    res = run(app, drawing, "--target", "我", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == Recognizer.load().diagnose(str(drawing), "我").to_dict()


# ------------------------------------------------------------------ bad targets, overlays, stroke files


@pytest.mark.parametrize("target", ["百", "A", "我你", "Unknown"])  # 百 has stroke data, the others none
def test_target_the_model_does_not_check_exits_2_with_verifys_line(app, drawing, target):
    line = one_line(run(app, drawing, "--target", target))
    assert line == f"hanzicheck: unknown target {target!r}: it must be one of the model's 178 HSK1 characters (e.g. 我)"


def test_overlay_folder_exits_2(app, drawing, tmp_path):
    line = one_line(run(app, drawing, "--target", "我", "--overlay", tmp_path))
    assert f"--overlay {tmp_path}: a folder" in line


def test_overlay_must_be_named_png(app, drawing, tmp_path):
    out = tmp_path / "overlay.jpg"
    line = one_line(run(app, drawing, "--target", "我", "--overlay", out))
    assert f"--overlay {out}: the overlay is a PNG" in line
    assert not out.exists()


def test_unwritable_overlay_exits_2(app, drawing, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "overlay.png"
    line = one_line(run(app, drawing, "--target", "我", "--overlay", out))
    assert f"--overlay {out}: cannot write it" in line


def test_malformed_stroke_file_names_the_point(app, tmp_path):
    path = tmp_path / "strokes.json"
    path.write_text('[[["a", 1]]]')
    line = one_line(run(app, path, "--target", "八"))
    assert line == f"hanzicheck diagnose: {path}: malformed pen strokes: strokes.0.0.0: expected a finite number, got 'a'"
