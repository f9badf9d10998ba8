"""Handwriting fonts from npm: pinned download, simplified-form checks, rendering like handwriting."""

from __future__ import annotations

import numpy as np
import pytest

from hanzicheck.data.download import DownloadError
from hanzicheck.data.synth import fonts as synth_fonts
from hanzicheck.data.synth.config import SynthConfig
from hanzicheck.data.synth.synthesizer import Synthesizer


def _need(key: str) -> None:
    try:
        synth_fonts.font_dir(key)
    except DownloadError as e:
        pytest.skip(f"font {key} unavailable: {e}")


def test_scoped_npm_packages_download_from_the_scope_path_and_cache_under_npm_pack_names():
    tarball = synth_fonts.FONTS["long-cang"].tarball
    assert tarball.url == "https://registry.npmjs.org/@fontsource/long-cang/-/long-cang-5.3.0.tgz"
    assert tarball.filename == "fontsource-long-cang-5.3.0.tgz"
    assert synth_fonts.FONTS["long-cang"].env_var == "HANZICHECK_FONT_LONG_CANG"


def test_a_tarball_that_fails_its_integrity_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "fontsource-zcool-kuaile-5.3.0.tgz"
    fake.write_bytes(b"not the font")
    monkeypatch.setenv("HANZICHECK_FONT_ZCOOL_KUAILE", str(fake))
    from hanzicheck.data.download import fetch

    with pytest.raises(DownloadError, match="integrity"):
        fetch(synth_fonts.FONTS["zcool-kuaile"].tarball)


def test_the_dev_fonts_are_held_out_of_training():
    assert set(synth_fonts.DEV_FONTS).isdisjoint(synth_fonts.TRAIN_FONTS)
    assert set(synth_fonts.DEV_FONTS) | set(synth_fonts.TRAIN_FONTS) == set(synth_fonts.FONTS)


def test_unicode_json_finds_the_subset_file_of_a_character():
    _need("zcool-kuaile")
    path = synth_fonts.glyph_file("zcool-kuaile", "我")
    assert path is not None and path.suffix == ".woff2" and path.is_file()
    cov = synth_fonts.glyph("zcool-kuaile", "我")
    assert cov is not None and cov.max() > 0.9 and min(cov.shape) > 40


def test_a_font_that_draws_traditional_forms_is_not_used_for_those_characters():
    _need("liu-jian-mao-cao")
    assert synth_fonts.traditional_font("liu-jian-mao-cao")  # 个 drawn as 個, 东 as 東, …
    assert not synth_fonts.usable("liu-jian-mao-cao", "个")
    assert synth_fonts.usable("liu-jian-mao-cao", "人")  # no traditional form: the font's glyph is fine


def test_a_simplified_font_keeps_its_characters():
    _need("zcool-kuaile")
    assert not synth_fonts.traditional_font("zcool-kuaile")
    assert synth_fonts.usable("zcool-kuaile", "个") and synth_fonts.usable("zcool-kuaile", "东")


def test_thinning_leaves_a_one_pixel_centre_line():
    bar = np.zeros((20, 40), bool)
    bar[8:13, 5:35] = True  # a 5-pixel-thick horizontal stroke
    line = synth_fonts.thin(bar)
    assert line.sum() >= 20 and line[:, 10:30].sum(axis=0).max() == 1
    assert not line[:8].any() and not line[13:].any()


def test_font_samples_are_ink_on_paper_and_vary():
    _need("zcool-kuaile")
    cfg = SynthConfig(fonts=("zcool-kuaile",), font_prob=1.0, small_prob=0.0)
    a = synth_fonts.font_char("好", np.random.default_rng(0), cfg, 64)
    b = synth_fonts.font_char("好", np.random.default_rng(1), cfg, 64)
    assert a.shape == (64, 64) and a.dtype == np.uint8
    assert (a < 128).sum() > 30 and np.median(a) > 200  # dark ink, light paper
    assert not np.array_equal(a, b)


def test_the_synthesiser_falls_back_to_strokes_where_no_font_draws_the_character():
    _need("liu-jian-mao-cao")
    cfg = SynthConfig(fonts=("liu-jian-mao-cao",), font_prob=1.0)
    assert synth_fonts.font_char("个", np.random.default_rng(0), cfg, 64) is None
    img = Synthesizer(config=cfg).char("个", np.random.default_rng(0))
    assert img.shape == (64, 64) and (img < 128).any()


def test_fonts_must_be_named():
    with pytest.raises(ValueError, match="font names"):
        SynthConfig(fonts=True)
    with pytest.raises(ValueError, match="unknown font"):
        synth_fonts.font_package("comic-sans")
