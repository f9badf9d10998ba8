"""scripts/soup.py: a greedy model soup of fine-tunes that share a starting point."""

from __future__ import annotations

import numpy as np

from scripts_module import script


def _soup():
    return script("soup")


def _scores(*values):
    """A score function that answers ``values`` in turn (the ingredients alone, then each trial soup)."""
    it = iter(values)
    return lambda model: {"dev_score": next(it)}


def test_a_soup_of_a_model_with_itself_has_its_weights(tiny_run):
    soup, record = _soup().cook([str(tiny_run), str(tiny_run)], _scores(0.5, 0.5, 0.5))
    alone = _soup().init_model(str(tiny_run))
    assert record["ingredients"] == [str(tiny_run)] * 2
    for a, b in zip(soup.get_weights(), alone.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_an_ingredient_that_lowers_the_score_is_left_out_unless_uniform(tiny_run, tmp_path):
    other = tmp_path / "other.keras"
    model = _soup().init_model(str(tiny_run))
    model.set_weights([w * 0.5 for w in model.get_weights()])
    model.save(other)
    paths = [str(tiny_run), str(other)]
    soup, record = _soup().cook(paths, _scores(0.6, 0.5, 0.55))
    assert record["ingredients"] == [str(tiny_run)] and record["steps"][0]["taken"] is False
    first = _soup().init_model(str(tiny_run)).get_weights()[0]
    np.testing.assert_allclose(soup.get_weights()[0], first)
    soup, record = _soup().cook(paths, _scores(0.6, 0.5, 0.55), uniform=True)
    assert record["ingredients"] == paths
    np.testing.assert_allclose(soup.get_weights()[0], 0.75 * first, rtol=1e-5, atol=1e-7)
