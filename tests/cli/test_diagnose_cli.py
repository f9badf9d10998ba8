"""The ``hanzicheck diagnose`` verb: JSON fields, pen-stroke files, overlay PNG, exit status 2 on bad input."""

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
    assert list(out) == ["file", "target", "verdict", "similarity", "missing_strokes", "stroke_scores", "extra_ink"]
    assert out["file"] == str(drawing)
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


def test_overlay_written(app, drawing, tmp_path):
    out = tmp_path / "sub" / "overlay.png"
    res = run(app, drawing, "--target", "我", "--overlay", out)
    assert res.exit_code == 0, res.output
    assert "missing strokes: 6" in res.stdout
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
    assert "cannot load the model" in res.stderr
