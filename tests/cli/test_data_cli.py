"""The ``data inspect`` and ``data preview`` verbs, through typer's runner and once as the installed command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from hanzicheck.cli import build_app
from hanzicheck.data.formats.gnt import write_gnt
from hanzicheck.data.formats.pot import write_pot
from hanzicheck.data.preview import contact_sheet
from hanzicheck.data.sample import Sample

CHARS = "我你好大小人口日月中国学"
runner = CliRunner()


@pytest.fixture
def gnt_dir(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    for writer in ("1001", "1002"):
        samples = [Sample(rng.integers(0, 256, (30, 24), dtype=np.uint8), c) for c in CHARS + "我"]
        write_gnt(tmp_path / f"{writer}-c.gnt", samples)
    return tmp_path


def test_inspect_json_has_the_summary_keys(gnt_dir):
    result = runner.invoke(build_app(), ["data", "inspect", str(gnt_dir), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert list(summary) == ["format", "samples", "classes", "writers", "counts"]
    assert (summary["format"], summary["samples"], summary["classes"], summary["writers"]) == ("gnt", 26, 12, 2)
    assert summary["counts"]["我"] == 4 and next(iter(summary["counts"])) == "我"


def test_inspect_prints_a_table_for_people(gnt_dir):
    result = runner.invoke(build_app(), ["data", "inspect", str(gnt_dir)])
    assert result.exit_code == 0
    assert "format gnt" in result.stdout and "samples 26" in result.stdout and "U+6211" in result.stdout


@pytest.mark.parametrize("name", ["missing.gnt", "notes.txt"])
def test_inspect_bad_source_is_one_line_on_stderr_exit_2(tmp_path, name):
    (tmp_path / "notes.txt").write_text("hi")
    result = runner.invoke(build_app(), ["data", "inspect", str(tmp_path / name)])
    assert result.exit_code == 2
    assert result.stdout == "" and result.stderr.count("\n") == 1 and name in result.stderr


def test_inspect_corrupt_file_names_the_offset(tmp_path):
    (tmp_path / "1001-c.gnt").write_bytes(b"\x05\x00\x00\x00\xb0\xa1\x02\x00\x02\x00")
    result = runner.invoke(build_app(), ["data", "inspect", str(tmp_path / "1001-c.gnt")])
    assert result.exit_code == 2 and "offset 0: size field 5" in result.stderr


def test_installed_command_inspects_real_dev_data(real_data):
    exe = Path(sys.executable).parent / "hanzicheck"
    if not exe.is_file():
        pytest.skip(f"{exe} is not installed (pip install -e .)")
    out = subprocess.run([str(exe), "data", "inspect", str(real_data / "chinese_mnist_dev.npz"), "--json"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    summary = json.loads(out)
    assert (summary["format"], summary["samples"], summary["classes"], summary["writers"]) == ("npz", 7500, 15, 50)


def test_preview_of_a_file_source_draws_the_chosen_characters(tmp_path):
    strokes = [np.array([[0, 0], [40, 0]], np.float32), np.array([[20, -10], [20, 40]], np.float32)]
    write_pot(tmp_path / "001.pot", [Sample(np.zeros((1, 1), np.uint8), c, strokes=strokes) for c in CHARS * 2])
    out = tmp_path / "sheet.png"
    result = runner.invoke(build_app(), ["data", "preview", str(tmp_path / "001.pot"), "--out", str(out),
                                         "--n", "6", "--chars", "我你", "--cols", "3"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    with Image.open(out) as sheet:
        assert sheet.size == contact_sheet([(np.zeros((2, 2), np.uint8), "a")] * 4, "t", cols=3).size


def test_preview_with_no_matching_characters_fails_clearly(tmp_path):
    strokes = [np.array([[0, 0], [40, 0]], np.float32)]
    write_pot(tmp_path / "001.pot", [Sample(np.zeros((1, 1), np.uint8), c, strokes=strokes) for c in CHARS])
    result = runner.invoke(build_app(), ["data", "preview", str(tmp_path / "001.pot"), "--out",
                                         str(tmp_path / "s.png"), "--chars", "山"])
    assert result.exit_code == 2 and "no samples labelled with any of '山'" in result.stderr


def test_contact_sheet_shows_samples_as_stored():
    light_on_dark = np.zeros((64, 64), np.uint8)
    sheet = np.asarray(contact_sheet([(light_on_dark, "a")], cols=1).convert("L"))
    # the tile (below the title strip) keeps the sample's black paper
    assert sheet[26 + 10:26 + 54, 6 + 10:6 + 54].max() == 0


def test_preview_of_synth_is_reproducible(tmp_path):
    from hanzicheck.data.download import DownloadError
    from hanzicheck.data.strokes import default_db

    try:
        default_db()
    except DownloadError as e:
        pytest.skip(f"stroke data unavailable: {e}")
    args = ["data", "preview", "synth", "--n", "4", "--chars", "大人", "--seed", "3"]
    first = runner.invoke(build_app(), [*args, "--out", str(tmp_path / "a.png")])
    assert first.exit_code == 0, first.stderr
    runner.invoke(build_app(), [*args, "--out", str(tmp_path / "b.png")])
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_preview_model_view_draws_the_40x40_input_beside_each_sample(tmp_path):
    pytest.importorskip("hanzicheck.data.preprocess", reason="preprocessing not written yet")
    image = np.full((64, 64), 255, np.uint8)
    image[20:44, 30:34] = 0
    plain = contact_sheet([(image, "a")], cols=1)
    both = contact_sheet([(image, "a")], cols=1, model_view=True)
    assert both.width == plain.width + 64 + 2


@pytest.fixture
def small_npz(tmp_path) -> Path:
    from hanzicheck.data.formats.folder import write_npz

    rng = np.random.default_rng(0)
    write_npz(tmp_path / "small.npz", [Sample(rng.integers(0, 256, (28, 28), dtype=np.uint8), c) for c in CHARS])
    return tmp_path / "small.npz"


def refused_naming(result, option: str, source: Path) -> str:
    """The one line on stderr of a preview refused for an option: it names the option, not the source."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith(f"hanzicheck: {option} ") and str(source) not in lines[0]
    return lines[0]


def test_preview_out_without_an_image_extension_is_refused_naming_out(small_npz, tmp_path):
    result = runner.invoke(build_app(), ["data", "preview", str(small_npz), "-o", str(tmp_path / "s.txt")])
    assert ".png" in refused_naming(result, "--out", small_npz)
    assert not (tmp_path / "s.txt").exists()


def test_preview_out_that_is_a_folder_is_refused_naming_out(small_npz, tmp_path):
    result = runner.invoke(build_app(), ["data", "preview", str(small_npz), "-o", str(tmp_path)])
    assert "a folder" in refused_naming(result, "--out", small_npz)


def test_preview_negative_cols_is_refused_naming_cols(small_npz, tmp_path):
    result = runner.invoke(build_app(), ["data", "preview", str(small_npz), "-o", str(tmp_path / "s.png"),
                                         "--cols", "-2", "--n", "5"])
    assert result.exit_code == 2 and "--cols" in result.stderr and str(small_npz) not in result.stderr
    assert not (tmp_path / "s.png").exists()


def test_preview_writes_the_format_its_extension_names(small_npz, tmp_path):
    out = tmp_path / "sheet.jpg"
    result = runner.invoke(build_app(), ["data", "preview", str(small_npz), "-o", str(out), "--n", "4"])
    assert result.exit_code == 0, result.stderr
    with Image.open(out) as sheet:
        assert sheet.format == "JPEG"


def test_preview_does_not_overwrite_an_existing_file_unless_forced(small_npz, tmp_path):
    out = tmp_path / "s.png"
    out.write_bytes(b"the user's own picture")
    args = ["data", "preview", str(small_npz), "-o", str(out), "--n", "4"]
    refused = runner.invoke(build_app(), args)
    assert refused.exit_code == 2 and out.read_bytes() == b"the user's own picture"
    assert refused.stderr.strip().splitlines() == [
        f"hanzicheck: --out {out} already exists: replace it with --force, or give another file"]
    assert runner.invoke(build_app(), [*args, "--force"]).exit_code == 0
    with Image.open(out) as sheet:
        assert sheet.format == "PNG"


def test_inspect_negative_top_is_refused_naming_top(gnt_dir):
    result = runner.invoke(build_app(), ["data", "inspect", str(gnt_dir), "--top", "-1"])
    assert result.exit_code == 2 and "--top" in result.stderr and "Traceback" not in result.output
    assert "samples per class" not in result.stdout  # it listed all classes but one, as "top -1 of 12"


def test_a_cache_path_that_is_a_file_is_named_as_the_cache(tmp_path, monkeypatch):
    from hanzicheck.data import strokes

    cache = tmp_path / "cache"
    cache.write_text("not a folder")
    monkeypatch.setenv("HANZICHECK_CACHE", str(cache))
    monkeypatch.delenv("HANZICHECK_STROKES", raising=False)
    monkeypatch.setattr(strokes, "_DEFAULT", None)
    result = runner.invoke(build_app(), ["data", "inspect", "strokes"])
    assert result.exit_code == 2
    assert result.stderr == f"hanzicheck: strokes: the cache folder {cache} (HANZICHECK_CACHE) is not a folder\n"
