"""The licensed-data path at real size: a CASIA source of thousands of classes keeps every HSK1 sample, a
bounded class-balanced share of the rest as Unknown, stores uint8, and batches draw from it class-balanced."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from hanzicheck.data.charset import NUM_CHARS, UNKNOWN_INDEX, hsk1_chars
from hanzicheck.data.dataset import BatchStream, UnknownCap, load_training_source, select_samples
from hanzicheck.data.formats.gnt import write_gnt
from hanzicheck.data.formats.pot import write_pot
from hanzicheck.data.formats.registry import iter_labels
from hanzicheck.data.sample import Sample

WRITERS = ("1001", "1002", "1003")


def _level1_hanzi() -> list[str]:
    """The 3,755 GB2312 level-1 hanzi (CASIA-HWDB1.0's core classes, all 178 HSK1 among them)."""
    out = []
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            if lead == 0xD7 and trail > 0xF9:
                break
            out.append(bytes((lead, trail)).decode("gb2312"))
    return out


def _classes(n: int) -> list[str]:
    """All HSK1 characters plus non-HSK1 level-1 hanzi, ``n`` in all."""
    hsk1 = set(hsk1_chars())
    return list(hsk1_chars()) + [c for c in _level1_hanzi() if c not in hsk1][:n - NUM_CHARS]


def _image(rng: np.random.Generator, size: int = 12) -> np.ndarray:
    """A small dark stroke-like block on white paper (what preprocessing accepts as a character)."""
    image = np.full((size, size), 255, np.uint8)
    r, c = rng.integers(1, size // 2, 2)
    image[r:r + size // 2, c:c + 2] = rng.integers(0, 60)
    image[r:r + 2, c:c + size // 2] = rng.integers(0, 60)
    return image


@pytest.fixture(scope="module")
def hwdb(tmp_path_factory):
    """A .gnt folder of realistic shape: 3,000 classes (178 HSK1) × 3 writers, one file per writer."""
    folder = tmp_path_factory.mktemp("hwdb")
    rng = np.random.default_rng(0)
    classes = _classes(3000)
    for writer in WRITERS:
        order = rng.permutation(len(classes))  # CASIA files are not sorted by class
        write_gnt(folder / f"{writer}-c.gnt", (Sample(_image(rng), classes[i]) for i in order),
                  tag_order="reversed")
    return folder


def _counts(arrays) -> Counter:
    return Counter(arrays.y.tolist())


def test_every_hsk1_sample_of_every_writer_is_kept(hwdb):
    arrays = load_training_source(hwdb, UnknownCap(per_class=2, share=0.9), use_cache=False)
    counts = _counts(arrays)
    assert all(counts[k] == len(WRITERS) for k in range(NUM_CHARS))
    assert set(arrays.writers[arrays.y < NUM_CHARS].tolist()) == set(WRITERS)


def test_each_other_class_is_capped_per_class(hwdb):
    # 2,822 other classes × cap 1 = 2,822 Unknown: the share 0.9 allows up to 4,806, so the cap alone decides
    arrays = load_training_source(hwdb, UnknownCap(per_class=1, share=0.9), use_cache=False)
    assert _counts(arrays)[UNKNOWN_INDEX] == 3000 - NUM_CHARS


def test_unknown_share_bounds_the_total_and_draws_from_many_classes(hwdb):
    arrays = load_training_source(hwdb, UnknownCap(per_class=3, share=0.25), use_cache=False)
    n_hsk1 = int((arrays.y < NUM_CHARS).sum())
    n_unknown = int((arrays.y == UNKNOWN_INDEX).sum())
    assert n_hsk1 == NUM_CHARS * len(WRITERS)
    assert n_unknown == n_hsk1 // 3  # share 0.25 of the kept = one third of the HSK1 count: 178
    assert len(arrays) == n_hsk1 + n_unknown


def test_default_cap_keeps_about_half_unknown_not_95_percent(hwdb):
    arrays = load_training_source(hwdb, use_cache=False)
    assert (arrays.y == UNKNOWN_INDEX).mean() == pytest.approx(0.5, abs=0.01)


def test_images_are_stored_as_uint8_40x40(hwdb):
    arrays = load_training_source(hwdb, use_cache=False)
    assert arrays.x.dtype == np.uint8 and arrays.x.shape[1:] == (40, 40)
    assert arrays.x.nbytes == 1600 * len(arrays)
    assert arrays.x.min() == 0 and arrays.x.max() == 255  # ink and paper, the full range


def test_shrunk_quotas_stay_class_balanced_and_spread_over_writers(tmp_path):
    # 10 writers × 40 other classes, no per-class cap: share 0.1 allows 1,780 / 9 = 197 Unknown, 4–5 a class
    classes = _classes(NUM_CHARS + 40)
    rng = np.random.default_rng(1)
    for w in range(10):
        write_gnt(tmp_path / f"{w:04d}-c.gnt", (Sample(_image(rng), c) for c in classes))
    labels, writers = zip(*iter_labels(tmp_path), strict=True)
    names = sorted(set(labels))
    ids = np.array([names.index(c) for c in labels])
    keep = select_samples(ids, names, UnknownCap(per_class=-1, share=0.1))
    per_class = Counter(c for c, k in zip(labels, keep, strict=True) if k and c not in hsk1_chars())
    assert sum(per_class.values()) == 197 and len(per_class) == 40
    assert max(per_class.values()) - min(per_class.values()) <= 1
    assert len({w for c, w, k in zip(labels, writers, keep, strict=True) if k and c not in hsk1_chars()}) == 10


def test_pot_source_is_selected_before_rendering(tmp_path, monkeypatch):
    from hanzicheck.data.formats import pot

    classes = _classes(1200)
    line = [np.array([[0, 0], [40, 40]], np.float32), np.array([[40, 0], [0, 40]], np.float32)]
    for writer in WRITERS:
        write_pot(tmp_path / f"{writer}.pot", (Sample(np.zeros((1, 1), np.uint8), c, strokes=line) for c in classes))
    rendered = []
    render = pot.render_strokes
    monkeypatch.setattr(pot, "render_strokes", lambda strokes, size: rendered.append(1) or render(strokes, size))
    arrays = load_training_source(tmp_path, UnknownCap(per_class=1, share=0.9), use_cache=False)
    assert len(rendered) == len(arrays) == NUM_CHARS * len(WRITERS) + (1200 - NUM_CHARS)


def test_batches_draw_the_file_part_class_balanced(hwdb):
    files = load_training_source(hwdb, use_cache=False)  # half Unknown, as stored
    stream = BatchStream(256, seed=0, unknown_fraction=0.1, files=files, file_fraction=1.0, workers=0)
    ys = np.concatenate([y for _, y in (next(it) for it in [iter(stream)] * 20)])
    assert (ys == UNKNOWN_INDEX).mean() == pytest.approx(0.1, abs=0.02)
    assert len(np.unique(ys[ys < NUM_CHARS])) == NUM_CHARS


def test_batches_are_float32_in_unit_range_from_uint8_files(hwdb):
    files = load_training_source(hwdb, use_cache=False)
    x, _ = next(iter(BatchStream(32, seed=0, files=files, file_fraction=1.0, workers=0)))
    assert x.dtype == np.float32 and x.shape == (32, 40, 40, 1)
    assert x.min() == 0.0 and x.max() == 1.0


def test_cached_shard_is_uint8_and_read_back_the_same(hwdb, tmp_path, monkeypatch):
    monkeypatch.setenv("HANZICHECK_CACHE", str(tmp_path))
    first = load_training_source(hwdb)
    (shard,) = (tmp_path / "shards").glob("*.npz")
    with np.load(shard) as z:
        assert z["x"].dtype == np.uint8
    again = load_training_source(hwdb)
    assert np.array_equal(first.x, again.x) and np.array_equal(first.y, again.y)


def test_writer_split_in_place_keeps_the_same_samples_as_a_copy(hwdb):
    files = load_training_source(hwdb, use_cache=False)
    mask = files.writers != "1002"
    copy = files.subset(mask)
    moved = files.compacted(mask, chunk=7)  # many chunks: each may only overwrite rows already moved
    assert np.shares_memory(moved.x, files.x)
    assert np.array_equal(moved.x, copy.x) and np.array_equal(moved.y, copy.y)
    assert np.array_equal(moved.writers, copy.writers)


def test_dev_sets_still_load_unquantised_float32(hwdb):
    from hanzicheck.data.dataset import load_source
    from hanzicheck.data.formats.registry import iter_samples
    from hanzicheck.data.preprocess import preprocess

    dev = load_source(hwdb, limit=20, use_cache=False)
    assert dev.x.dtype == np.float32
    assert np.array_equal(dev.x, np.stack([preprocess(s.image) for s in iter_samples(hwdb, limit=20)]))
