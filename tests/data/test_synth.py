"""The handwriting synthesiser: determinism, stroke drops, negatives, Unknown samples, model-ready batches."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from hanzicheck.data.charset import UNKNOWN_INDEX, hsk1_chars
from hanzicheck.data.download import DownloadError
from hanzicheck.data.lookalikes import lookalikes
from hanzicheck.data.strokes import BOX, default_db
from hanzicheck.data.synth.synthesizer import NEGATIVE_KINDS, SynthConfig, Synthesizer, synth_batch


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    try:
        return Synthesizer(default_db())
    except DownloadError as e:
        pytest.skip(f"stroke data unavailable: {e}")


@pytest.fixture(scope="module")
def plain(synth) -> Synthesizer:
    return Synthesizer(synth.db, SynthConfig.plain())


def ink(img: np.ndarray) -> np.ndarray:
    return img < 128


def test_char_is_uint8_ink_on_paper_of_canvas_size(synth):
    img = synth.char("我", np.random.default_rng(0))
    assert img.shape == (64, 64) and img.dtype == np.uint8
    assert 0.002 < ink(img).mean() < 0.5  # some ink (characters are sometimes written small), mostly paper
    assert np.median(img) > 200


def test_same_seed_same_image_other_seed_differs(synth):
    a = synth.char("说", np.random.default_rng(7))
    b = synth.char("说", np.random.default_rng(7))
    c = synth.char("说", np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 5


def test_dropping_the_middle_stroke_of_ri_removes_its_ink(plain):
    ri = plain.db.get("日")
    full = plain.char("日", np.random.default_rng(1))
    dropped = plain.char("日", np.random.default_rng(1), drop=[2])
    # the middle stroke's row, from its median's position within the character's bounding box
    y0, y1 = ri.bbox[1], ri.bbox[3]
    frac = (float(ri.medians[2][:, 1].mean()) - y0) / (y1 - y0)
    rows = np.flatnonzero(ink(full).any(axis=1))
    row = round(rows[0] + frac * (rows[-1] - rows[0]))
    band = slice(row - 1, row + 2)
    assert ink(full)[band].sum() > 3 * ink(dropped)[band].sum()
    assert ink(dropped).sum() < ink(full).sum()


def test_drop_validates_indices(synth):
    with pytest.raises(IndexError, match="日"):
        synth.char("日", np.random.default_rng(0), drop=[4])
    with pytest.raises(ValueError, match="nothing"):
        synth.char("一", np.random.default_rng(0), drop=[0])


def test_droppable_skips_drops_that_make_another_char(synth):
    assert 0 not in synth.droppable("大")  # 大 without 一 is 人
    assert 2 not in synth.droppable("日")  # 日 without its middle stroke is a box (口/囗)
    assert 1 not in synth.droppable("王")  # 王 without its middle stroke is 工
    assert len(synth.droppable("我")) >= 5


@pytest.mark.parametrize("kind", NEGATIVE_KINDS)
def test_negatives_say_what_was_done(synth, kind):
    img, info = synth.negative("日", kind, np.random.default_rng(3))
    assert img.shape == (64, 64) and ink(img).any()
    assert info["kind"] in NEGATIVE_KINDS
    if info["kind"] == "missing_stroke":
        assert info["dropped"] and set(info["dropped"]) <= set(synth.droppable("日"))
    if kind == "lookalike":
        assert info["char"] in lookalikes(synth.db)["日"]
    if kind == "wrong_char":
        assert info["char"] != "日" and info["char"] in hsk1_chars()


def test_unknown_negative_kind_is_rejected(synth):
    with pytest.raises(ValueError, match="missing_stroke"):
        synth.negative("日", "upside_down", np.random.default_rng(0))


@pytest.mark.parametrize("kind", ["other_char", "fragment", "latin", "mnist", "scribble"])
def test_every_unknown_kind_draws_something(synth, kind):
    cfg = SynthConfig(unknown_weights=((kind, 1.0),))
    s = Synthesizer(synth.db, cfg)
    rng = np.random.default_rng(0)
    for _ in range(5):
        img = s.unknown(rng)
        assert img.shape == (64, 64) and img.dtype == np.uint8
        assert int(img.max()) - int(img.min()) > 30  # visible ink (preprocess needs 24 grey levels)
        assert (img < (int(img.min()) + int(img.max())) // 2).sum() >= 4


def test_latin_unknowns_leave_out_letters_that_pass_for_hsk1_characters(synth):
    """'t' is 十/七 and 'I' is 工 in stroke terms: training them as Unknown taught the model to reject real 七."""
    keep = synth.latin_unknowns()
    assert "t" not in keep and "I" not in keep
    assert {"A", "a", "x", "7", "0"} <= set(keep)


def test_scribbles_never_pass_for_an_hsk1_character(synth):
    rng = np.random.default_rng(0)
    assert not any(synth._hsk1_like(synth.scribble_lines(rng)) for _ in range(300))


def test_scribbles_are_never_one_or_two_plain_strokes(synth):
    """Two short lines are how people write 八, a slanted 'L' is 七: scribbles are loops, zigzags, spirals,
    wandering lines or hatching of three lines or more."""
    from hanzicheck.data.synth.latin import scribble

    rng = np.random.default_rng(1)
    for _ in range(300):
        lines = scribble(rng)
        if len(lines) == 1:
            (line,) = lines
            path = np.linalg.norm(np.diff(line, axis=0), axis=1).sum()
            assert path > 1.05 * np.linalg.norm(line[-1] - line[0])  # never a straight stroke
        else:
            assert len(lines) >= 3


def test_fragments_keep_at_least_three_strokes(synth, monkeypatch):
    """Two-stroke fragments (the 八 of 六, the 十 of 古) are simple HSK1 characters as people write them."""
    from hanzicheck.data.synth.synthesizer import FRAGMENT_MIN_STROKES

    kept = []
    monkeypatch.setattr(synth, "_write", lambda lines, comps, rng: kept.append(len(lines)))
    rng = np.random.default_rng(2)
    for _ in range(200):
        synth._fragment(rng)
    assert kept and min(kept) >= FRAGMENT_MIN_STROKES == 3


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_fragment_hsk1_share_picks_where_fragments_are_cut_from(synth, monkeypatch, share):
    s = Synthesizer(synth.db, SynthConfig(fragment_hsk1_share=share))
    s._other_chars()  # built once from every HSK1 character: before the count starts
    cut_from = []
    real_prepared = s.prepared
    monkeypatch.setattr(s, "prepared", lambda c: cut_from.append(c) or real_prepared(c))
    monkeypatch.setattr(s, "_write", lambda lines, comps, rng: None)
    rng = np.random.default_rng(3)
    for _ in range(40):
        s._fragment(rng)
    hsk1 = set(hsk1_chars())
    assert len(cut_from) == 40 and all((c in hsk1) == (share == 1.0) for c in cut_from)


def test_fragment_hsk1_share_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="fragment_hsk1_share"):
        SynthConfig(fragment_hsk1_share=1.5)


def test_synth_batch_is_model_ready_and_deterministic():
    ids = np.array([0, 5, 177, UNKNOWN_INDEX, UNKNOWN_INDEX])
    try:
        x = synth_batch(ids, seed=11)
    except DownloadError as e:
        pytest.skip(f"stroke data unavailable: {e}")
    assert x.shape == (5, 40, 40) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 1 and (x < 0.5).any(axis=(1, 2)).all()
    np.testing.assert_array_equal(x, synth_batch(ids, seed=11))
    assert not np.array_equal(x, synth_batch(ids, seed=12))
    with pytest.raises(ValueError, match="179"):
        synth_batch([179], seed=0)


def test_synth_batch_and_config_pickle_for_worker_processes():
    cfg = SynthConfig(pen_width=(0.02, 0.03))
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert pickle.loads(pickle.dumps(synth_batch)) is synth_batch


def test_config_rejects_bad_values_and_accepts_json_lists():
    with pytest.raises(ValueError, match="pen_width"):
        SynthConfig(pen_width=(0.05, 0.02))
    with pytest.raises(ValueError, match="latin"):
        SynthConfig(unknown_weights=(("emoji", 1.0),))
    cfg = SynthConfig(unknown_weights=[["latin", 1.0]], size=[0.5, 0.6])
    assert cfg.unknown_weights == (("latin", 1.0),) and hash(cfg)


def test_plain_config_follows_the_reference_medians(plain):
    yi = plain.char("一", np.random.default_rng(0))
    rows = np.flatnonzero(ink(yi).any(axis=1))
    cols = np.flatnonzero(ink(yi).any(axis=0))
    assert len(cols) > 4 * len(rows)  # a horizontal stroke stays horizontal
    med = plain.db.get("一").medians[0] / BOX
    assert med[-1, 0] > med[0, 0]


def test_lookalikes_are_in_the_stroke_data_and_cover_the_worst_confusions(synth):
    table = lookalikes(synth.db)
    assert all(c in synth.db and all(o in synth.db for o in others) for c, others in table.items())
    for a, b in [("大", "太"), ("月", "日"), ("现", "视"), ("商", "高"), ("几", "儿"), ("己", "已")]:
        assert b in table[a] and a in table[b]
    assert all(c in table for c in hsk1_chars())


def test_pen_lifts_follow_real_handwriting(synth):
    """Real native handwriting: pen lifts / strokes 0.25 / 0.62 / 1.00 (10/50/90 %), 17 % all separate."""
    from hanzicheck.data.synth.render import join

    rng = np.random.default_rng(0)
    ratios, separate = [], []
    for c in hsk1_chars()[::3]:
        lines = synth.prepared(c).lines
        for _ in range(8):
            lifts = len(join(lines, rng, synth.config))
            ratios.append(lifts / len(lines))
            separate.append(lifts == len(lines))
    p10, p50, p90 = np.percentile(ratios, [10, 50, 90])
    assert 0.15 <= p10 <= 0.35 and 0.52 <= p50 <= 0.72 and p90 == 1.0
    assert 0.1 <= np.mean(separate) <= 0.3


def test_bounding_box_aspect_follows_real_handwriting(synth):
    """Real: width / height of the ink 0.58 / 0.87 / 1.31 (10/50/90 %)."""
    rng = np.random.default_rng(1)
    ratios = []
    for c in hsk1_chars()[::2]:
        for _ in range(4):
            img = synth.char(c, rng)
            dark = img < (int(img.min()) + int(img.max())) // 2
            rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
            ratios.append((cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1))
    p10, p50, p90 = np.percentile(ratios, [10, 50, 90])
    assert 0.45 <= p10 <= 0.72 and 0.75 <= p50 <= 1.0 and 1.15 <= p90 <= 1.5


def test_stroke_stretch_changes_a_strokes_width_and_height_apart():
    from hanzicheck.data.synth.render import deform

    line = np.stack([np.linspace(0.2, 0.8, 40), np.full(40, 0.5)], axis=1)  # one horizontal stroke
    cfg = SynthConfig.plain(stroke_stretch=0.5)
    lengths = []
    for seed in range(20):
        (out,) = deform([line], [], np.random.default_rng(seed), cfg)
        assert np.ptp(out[:, 1]) < 1e-9  # still a horizontal line: no height to stretch
        assert np.allclose(out.mean(axis=0), line.mean(axis=0))  # about its own centre
        lengths.append(np.ptp(out[:, 0]))
    assert min(lengths) < 0.5 < 0.7 < max(lengths)  # drawn from 0.6 × e^N(0, 0.5): shorter and longer
    (same,) = deform([line], [], np.random.default_rng(0), SynthConfig.plain())
    assert np.allclose(same, line)


def test_stroke_outliers_turn_and_shrink_some_strokes_far_beyond_the_usual_spread():
    """With stroke_outlier_prob 0.5 about half of the strokes come out turned 15–35° and 0.4–1.0 as long; the
    rest stay as they were (plain settings: no other displacement)."""
    from hanzicheck.data.synth.render import deform

    line = np.stack([np.linspace(0.2, 0.8, 40), np.full(40, 0.5)], axis=1)  # one horizontal stroke
    cfg = SynthConfig.plain(stroke_outlier_prob=0.5)
    turned = 0
    for seed in range(40):
        (out,) = deform([line], [], np.random.default_rng(seed), cfg)
        d = out[-1] - out[0]
        angle = abs(np.degrees(np.arctan2(d[1], d[0])))
        if angle < 1e-6:
            assert np.allclose(out, line)
            continue
        turned += 1
        assert 15.0 - 1e-6 <= angle <= 35.0 + 1e-6 and 0.6 * 0.4 - 1e-9 <= np.hypot(*d) <= 0.6 + 1e-9
        assert np.allclose(out.mean(axis=0), line.mean(axis=0))  # about its own centre
    assert 10 <= turned <= 30


def test_a_hurried_hand_drops_the_end_hook_of_le(synth):
    from hanzicheck.data.synth.render import drop_hook

    hook = synth.prepared("了").lines[1]  # the vertical with its flick to the upper left
    cut = drop_hook(hook)
    assert len(cut) < len(hook)
    assert cut[-1][0] > hook[-1][0] - 1e-6  # what is left ends on the vertical, right of the flick's tip
    straight = synth.prepared("一").lines[0]
    assert np.array_equal(drop_hook(straight), straight)  # no hook: unchanged


def test_a_merged_dot_makes_speech_radical_one_pen_down_run(synth):
    from hanzicheck.data.synth.render import join

    lines = synth.prepared("话").lines  # 讠: a dot, then 横折提
    always = SynthConfig(separate_prob=0.0, join_prob=(1.0, 1.0), dot_merge_prob=1.0)
    points, mask = join(lines[:2], np.random.default_rng(0), always, hurry=1.0)[0]
    assert mask is not None and mask.all()  # the travel from the dot is inked as the stroke itself
    never = SynthConfig(separate_prob=0.0, join_prob=(1.0, 1.0))
    _, mask = join(lines[:2], np.random.default_rng(0), never, hurry=1.0)[0]
    assert mask is not None and not mask.all()  # otherwise the travel stays a thinner, lighter connector


def test_a_fluent_component_is_one_pen_down_run_with_its_travel_inked(synth):
    from hanzicheck.data.synth.render import join

    prep = synth.prepared("话")  # 讠 (strokes 0–1) is the radical: the first component
    assert tuple(prep.components[0]) == (0, 1)
    fluent = SynthConfig(separate_prob=0.0, join_prob=(0.0, 0.0), component_join_prob=1.0)  # no other joins
    groups = join(prep.lines, np.random.default_rng(0), fluent, hurry=1.0, components=prep.components)
    points, mask = groups[0]
    assert mask is not None and mask.all()  # 讠 in one stroke, the travel drawn as ink
    assert len(groups) < len(prep.lines)
    neat = SynthConfig(separate_prob=0.0, join_prob=(0.0, 0.0))
    assert len(join(prep.lines, np.random.default_rng(0), neat, hurry=1.0, components=prep.components)) == len(
        prep.lines)


def test_fluent_components_leave_big_components_and_other_strokes_apart(synth):
    from hanzicheck.data.synth.render import component_forms

    rng = np.random.default_rng(0)
    assert component_forms([(0, 1, 2)], 8, rng, 1.0) == {1, 2}  # 口: a loop
    assert component_forms([(0, 2, 3)], 8, rng, 1.0) == {3}  # only strokes written one after the other
    assert component_forms([tuple(range(6))], 8, rng, 1.0) == set()  # a big component is not one movement
    assert component_forms([(0, 1)], 8, rng, 0.0) == set()


def test_a_five_stroke_character_can_lose_two_strokes(synth):
    five = [c for c in "他们你好出"[:5] if len(synth.prepared(c).lines) == 5]
    assert five  # 他 你 … have five strokes
    rng = np.random.default_rng(0)
    kept = {len(synth.negative(five[0], "missing_stroke", rng)[1].get("dropped", ())) for _ in range(40)}
    assert kept <= {1, 2} and 2 in kept  # once raised ValueError (rng.integers(2, 2)) 30 % of the time


def test_pen_drop_pair_is_the_same_drawing_without_one_long_pen_down_run(synth):
    """The held-out set's missing_stroke impostor: a fluent writer's drawing with one long pen-down run removed."""
    even_ink = dict(stroke_ink_prob=0.0, connector_ink=(1.0, 1.0))  # else a run's lighter travel can cover another
    s = Synthesizer(synth.db, SynthConfig(**even_ink, separate_prob=0.0, join_prob=(0.5, 0.5)), canvas=128)
    rng = np.random.default_rng(4)
    pairs = [p for p in (s.pen_drop_pair(c, rng) for c in "我好冷分读茶话现") if p is not None]
    assert len(pairs) >= 6
    for whole, dropped, info in pairs:
        assert whole.shape == dropped.shape == (128, 128)
        assert (dropped.astype(int) >= whole.astype(int) - 1).all()  # nothing drawn that the whole lacks
        darkness = lambda img: (255 - img.astype(int)).sum()  # noqa: E731  (thin pens draw grey lines)
        assert darkness(dropped) < 0.9 * darkness(whole)  # and a long run is gone
        assert info["runs"] >= 2 and 0 <= info["run"] < info["runs"]


def test_pen_drop_pair_needs_two_pen_down_runs(synth):
    assert synth.pen_drop_pair("一", np.random.default_rng(0)) is None
