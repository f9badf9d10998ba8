"""The verify rule (inference/verdict.py) on the hand-built model: its evidence, its verdict and why it refuses."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from fake_artifacts import add_verdict_rule, drawings, vertical_bar, write_fake_artifacts
from hanzicheck.inference.recognizer import Recognizer
from hanzicheck.inference.verdict import Evidence, VerdictParams, accepted, reasons, scores


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory):
    return write_fake_artifacts(tmp_path_factory.mktemp("fake"))


def _with_rule(folder, verdict: dict, thresholds: float | None = None, drops=None):
    return Recognizer.load(add_verdict_rule(folder, verdict, thresholds, drops))


def _ev(**kw) -> Evidence:
    base = dict(similarity=[0.8], probability=[0.9], rank=[1], top=[5], drop_margin=[-np.inf], drop_stroke=[-1])
    floats = ("similarity", "probability", "drop_margin")
    return Evidence(*(np.asarray(kw.get(k, v), float if k in floats else int) for k, v in base.items()))


def test_the_score_adds_the_weighted_log_probability_down_to_a_floor():
    params = VerdictParams(prob_weight=0.1, log_p_floor=-5.0)
    ev = _ev(similarity=[0.8, 0.8, 0.8], probability=[1.0, np.exp(-2), 1e-9], rank=[1, 1, 1], top=[5, 5, 5],
             drop_margin=[0.0, 0.0, 0.0], drop_stroke=[0, 0, 0])
    assert scores(ev, params) == pytest.approx([0.8, 0.8 - 0.2, 0.8 - 0.5])


def test_a_target_ranked_below_max_rank_is_refused_whatever_its_score():
    params = VerdictParams(max_rank=3)
    ev = _ev(similarity=[0.95, 0.95], probability=[0.2, 0.2], rank=[3, 4], top=[5, 5], drop_margin=[-1, -1],
             drop_stroke=[-1, -1])
    assert accepted(ev, params, np.array([0.5, 0.5])).tolist() == [True, False]


def test_a_drawing_closer_to_a_stroke_drop_template_than_the_margin_allows_is_refused():
    params = VerdictParams(max_drop_margin=0.05)
    ev = _ev(similarity=[0.95, 0.95, 0.95], probability=[0.9] * 3, rank=[1] * 3, top=[5] * 3,
             drop_margin=[0.04, 0.06, -np.inf], drop_stroke=[2, 2, -1])
    assert accepted(ev, params, np.full(3, 0.5)).tolist() == [True, False, True]  # −∞: no drop templates


def test_refusals_say_why_in_order():
    params = VerdictParams(prob_weight=0.1, max_drop_margin=0.05)
    unknown = 178
    ev = _ev(similarity=[0.80, 0.80, 0.50, 0.50, 0.90, 0.30], probability=[0.9, 0.9, 0.01, 0.01, 0.9, 0.01],
             rank=[1, 1, 2, 2, 1, 2], top=[7, 7, 7, unknown, 7, unknown],
             drop_margin=[0.1, 0.0, 0.0, 0.0, 0.0, 0.1], drop_stroke=[3, 0, 0, 0, 0, 1])
    th = np.array([0.75, 0.75, 0.75, 0.75, 0.95, 0.75])
    assert reasons(ev, params, th, unknown) == [
        "missing_stroke",  # its score passes, but it is 0.1 closer to the drawing without stroke 3
        None,
        "other_character",  # class 7 is likelier
        "far_from_template",  # Unknown is likelier: no character to name
        "far_from_template",  # the target is the most likely class, the drawing is just not close enough
        "far_from_template",  # nothing like the target: a stroke-drop template fitting better says nothing
    ]
    assert reasons(ev, params, th, unknown, scores(ev, params)) == reasons(ev, params, th, unknown)


def test_verify_names_the_likelier_character(fake_dir, tmp_path):
    rec = _with_rule(shutil.copytree(fake_dir, tmp_path / "m"), {"prob_weight": 0.05, "max_rank": 5})
    v = rec.verify(drawings()["日"], "十")
    assert v.verdict == "incomplete_or_unclear" and v.reason == "other_character" and v.other == "日"
    assert v.rank > 1 and "looks more like 日 than 十" in v.explanation()


def test_verify_names_the_missing_stroke_from_the_stored_drop_templates(fake_dir, tmp_path):
    """十's drop templates: row 0 the complete 十, row 1 (without stroke 0, the horizontal) a vertical bar, row 2
    (without stroke 1) the horizontal bar 一. A drawn 一 is 十 without its stroke 1."""
    d = drawings()
    rec = _with_rule(shutil.copytree(fake_dir, tmp_path / "m"), {"max_drop_margin": 0.1}, thresholds=0.5,
                     drops={"十": [d["十"], vertical_bar(), d["一"]]})
    v = rec.verify(drawings()["一"], "十")
    assert v.verdict == "incomplete_or_unclear" and v.reason == "missing_stroke" and v.missing_stroke == 1
    assert v.explanation() == "stroke 2 of 十 looks missing"
    assert rec.verify(drawings()["十"], "十").correct


def test_drop_templates_that_do_not_fit_the_characters_are_refused_on_load(fake_dir, tmp_path):
    from hanzicheck.inference.artifacts import ArtifactsError

    folder = shutil.copytree(fake_dir, tmp_path / "m")
    with np.load(folder / "templates.npz") as z:
        arrays = {k: z[k] for k in z.files}
    np.savez(folder / "templates.npz", **arrays, drop_templates=np.ones((3, 8), np.float16),
             drop_offsets=np.zeros(4, np.int64))
    with pytest.raises(ArtifactsError, match="drop_templates"):
        Recognizer.load(folder)
