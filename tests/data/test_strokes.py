"""Stroke data (hanzi-writer-data 2.0.1): loading, parsing, coordinates, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hanzicheck.data.charset import hsk1_chars
from hanzicheck.data.download import DownloadError
from hanzicheck.data.strokes import StrokeDB, flatten_path


def test_wo_has_seven_strokes_with_medians_in_the_box_y_down(db):
    wo = db.get("我")
    assert wo.char == "我" and len(wo.strokes) == 7 and len(wo.medians) == 7
    pts = np.concatenate(wo.medians)
    assert pts.dtype == np.float32 and pts.shape[1] == 2
    assert pts.min() >= 0 and pts.max() <= 1024
    # the first stroke of 我 is the short falling stroke at the top: small image y (y down)
    assert wo.medians[0][:, 1].mean() < 400
    assert set(wo.rad_strokes) <= set(range(7))


def test_yi_horizontal_and_ordered_top_to_bottom_in_san(db):
    san = db.get("三")
    ys = [m[:, 1].mean() for m in san.medians]
    assert ys == sorted(ys)  # written top to bottom, y grows downward
    first = san.medians[0]
    assert first[-1, 0] > first[0, 0]  # written left to right


def test_every_hsk1_char_is_present(db):
    assert [c for c in hsk1_chars() if c not in db] == []
    assert len(db) > 9000 and "我" in db.chars()


def test_missing_char_raises_keyerror_naming_it(db):
    with pytest.raises(KeyError, match="A"):
        db.get("A")
    assert "A" not in db


def test_outline_polygons_cover_the_medians(db):
    kou = db.get("口")
    polys = kou.outline_polygons()
    assert len(polys) == len(kou.medians)
    outline = np.concatenate([p for stroke in polys for p in stroke])
    med = np.concatenate(kou.medians)
    assert np.all(outline.min(axis=0) <= med.min(axis=0)) and np.all(outline.max(axis=0) >= med.max(axis=0))


def test_flatten_path_handles_lines_quadratics_and_cubics():
    polys = flatten_path("M 0 0 L 10 0 Q 20 0 20 10 C 20 20 10 20 0 20 Z", steps=4)
    assert len(polys) == 1
    poly = polys[0]
    assert len(poly) == 1 + 1 + 4 + 4
    np.testing.assert_allclose(poly[-1], [0, 20])
    with pytest.raises(ValueError, match="SVG path"):
        flatten_path("M 0 0 A 1 1 0 0 0 5 5")


def test_folder_of_json_files_opens(tmp_path):
    doc = {"strokes": ["M 0 0 L 100 0 Z"], "medians": [[[0, 800], [100, 800]]], "radStrokes": [0]}
    (tmp_path / "一.json").write_text(json.dumps(doc), encoding="utf-8")
    db = StrokeDB.open(tmp_path)
    one = db.get("一")
    np.testing.assert_allclose(one.medians[0], [[0, 100], [100, 100]])
    assert db.chars() == ["一"] and one.rad_strokes == (0,)


def test_open_without_data_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HANZICHECK_STROKES", str(tmp_path / "missing.tgz"))
    with pytest.raises(DownloadError, match="HANZICHECK_STROKES"):
        StrokeDB.open()
