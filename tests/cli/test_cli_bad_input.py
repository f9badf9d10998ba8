"""Bad input on the command line (issue 17): every reader error is exit 2 with one line naming the input, reads
are bounded (regular files only, size caps), and nothing hangs."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fake_artifacts import drawings, write_fake_artifacts
from hanzicheck.cli import build_app

runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_fake_artifacts(tmp_path_factory.mktemp("model"))


def run(*args):
    start = time.monotonic()
    result = runner.invoke(build_app(), [str(a) for a in args])
    return result, time.monotonic() - start


def one_line_naming(result, name) -> bool:
    lines = result.stderr.strip().splitlines()
    return result.exit_code == 2 and len(lines) == 1 and str(name) in lines[0] and "Traceback" not in result.output


# ------------------------------------------------------------------ classify: regular files only


def test_classify_dev_zero_fails_fast(model):
    result, took = run("classify", "/dev/zero", "--model", model, "--json")
    assert one_line_naming(result, "/dev/zero") and "not a regular file" in result.stderr
    assert took < 10


def test_classify_fifo_does_not_hang(model, tmp_path):
    fifo = tmp_path / "drawing.png"
    os.mkfifo(fifo)
    result, took = run("classify", fifo, "--model", model, "--json")
    assert one_line_naming(result, fifo) and "not a regular file" in result.stderr
    assert took < 10


def test_classify_folder_where_every_file_fails_exits_2(model, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"not a png")
    Image.new("L", (64, 64), 255).save(folder / "b.png")  # blank: no ink
    result, _ = run("classify", folder, "--model", model, "--json")
    assert one_line_naming(result, folder / "a.png") and "no image could be read" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(folder / "a.png"), str(folder / "b.png")]
    assert rows[1]["error"].startswith(f"{folder / 'b.png'}: no ink")  # per-image errors name the file


@pytest.mark.parametrize("verb", [["classify"], ["verify", "--target", "十"]])
def test_table_where_no_image_could_be_read_is_only_the_error_line(verb, model, tmp_path):
    bad = tmp_path / "notimg.png"
    bad.write_text("hi")
    result, _ = run(verb[0], bad, *verb[1:], "--model", model)
    assert one_line_naming(result, bad) and "no image could be read" in result.stderr
    assert result.stdout == ""  # no empty table, no second copy of the error


def test_classify_folder_with_one_good_file_still_exits_0(model, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"not a png")
    Image.fromarray(drawings()["十"]).save(folder / "b.png")
    result, _ = run("classify", folder, "--model", model, "--json")
    assert result.exit_code == 0, result.output


def test_gif_and_tiff_files_in_a_folder_are_read(model, tmp_path):
    for ext in ("gif", "tiff"):
        Image.fromarray(drawings()["十"]).save(tmp_path / f"ten.{ext}")
    result, _ = run("classify", tmp_path, "--model", model, "--json")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["char"] for line in result.stdout.splitlines()] == ["十", "十"]


def test_verify_target_is_trimmed(model, tmp_path):
    path = tmp_path / "ten.png"
    Image.fromarray(drawings()["十"]).save(path)
    result, _ = run("verify", path, "--target", " 十 ", "--model", model, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["target"] == "十"


# ------------------------------------------------------------------ npz readers


@pytest.fixture
def corrupt_npz(tmp_path):
    path = tmp_path / "corrupt.npz"
    path.write_bytes(b"PK\x03\x04" + b"garbage" * 50)
    return path


@pytest.mark.parametrize("verb", [["data", "inspect"], ["data", "preview", "-o", "SHEET"], ["evaluate", "--data"]])
def test_corrupt_npz_is_one_line_exit_2(verb, corrupt_npz, model, tmp_path):
    args = [a.replace("SHEET", str(tmp_path / "sheet.png")) for a in verb] + [corrupt_npz]
    if verb[0] == "evaluate":
        args += ["--model", model, "--report", tmp_path / "report"]
    result, _ = run(*args)
    assert one_line_naming(result, corrupt_npz), result.output
    assert "not a readable .npz" in result.stderr
    assert not (tmp_path / "sheet.png").exists() and not (tmp_path / "report").exists()


@pytest.mark.parametrize("verb", [["data", "inspect"], ["evaluate", "--data"]])
def test_npz_with_more_images_than_labels_is_refused(verb, model, tmp_path):
    path = tmp_path / "mismatch.npz"
    np.savez(path, images=np.zeros((5, 28, 28), np.uint8), labels=np.array(list("一二三")))
    args = [*verb, path] + (["--model", model, "--report", tmp_path / "report"] if verb[0] == "evaluate" else [])
    result, _ = run(*args)
    assert one_line_naming(result, path), result.output
    assert "N = 3 labels" in result.stderr and "(5, 28, 28)" in result.stderr


def test_npz_that_is_not_a_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "data.npz"
    os.mkfifo(fifo)
    result, took = run("data", "inspect", fifo)
    assert one_line_naming(result, fifo) and "not a regular file" in result.stderr
    assert took < 10


# ------------------------------------------------------------------ diagnose


def test_diagnose_folder_says_folder(tmp_path):
    result, _ = run("diagnose", tmp_path, "--target", "大")
    assert one_line_naming(result, tmp_path) and "a folder" in result.stderr and "no such file" not in result.stderr


def test_diagnose_dev_zero_fails_fast():
    result, took = run("diagnose", "/dev/zero", "--target", "大")
    assert one_line_naming(result, "/dev/zero") and "not a regular file" in result.stderr
    assert took < 10


def test_diagnose_target_is_trimmed(tmp_path):
    from hanzicheck.data.download import DownloadError
    from hanzicheck.data.render import render_strokes
    from hanzicheck.data.strokes import default_db

    try:
        medians = default_db().get("大").medians
    except DownloadError as e:
        pytest.skip(f"stroke data unavailable: {e}")
    path = tmp_path / "da.png"
    Image.fromarray(render_strokes(medians, size=96)).save(path)
    result, _ = run("diagnose", path, "--target", " 大 ", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["target"] == "大"


def test_json_option_file_must_be_regular(tmp_path):
    from hanzicheck.cli._common import read_json

    with pytest.raises(ValueError, match="not a regular file"):
        read_json("/dev/zero")


def test_casia_source_that_is_a_fifo_fails_fast(tmp_path):
    fifo = tmp_path / "1001-c.gnt"
    os.mkfifo(fifo)
    result, took = run("data", "inspect", fifo)
    assert one_line_naming(result, fifo) and "not a regular file" in result.stderr
    assert took < 10


def test_labels_csv_folder_images_go_through_the_one_decoder(tmp_path):
    """A folder source's image in a format outside the allow-list is refused like everywhere else."""
    from hanzicheck.data.formats.registry import DataFormatError, iter_samples

    Image.fromarray(drawings()["十"]).save(tmp_path / "ten.ppm")
    (tmp_path / "labels.csv").write_text("file,label\nten.ppm,十\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="ten.ppm is not an image in a format hanzicheck reads"):
        list(iter_samples(tmp_path))


# ------------------------------------------------------------------ usage errors, through the installed entry point


def _main(monkeypatch, capsys, *args) -> tuple[int, list[str], str]:
    """``hanzicheck ARGS`` as the console script runs it: (exit status, stderr lines, stdout)."""
    from hanzicheck.cli import main

    monkeypatch.setattr("sys.argv", ["hanzicheck", *map(str, args)])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return exit_.value.code, err.strip().splitlines(), out


@pytest.mark.parametrize(("args", "line"), [
    (("classify", "x.png", "--top-k", "0"), "hanzicheck classify: Invalid value for '--top-k': "),
    (("verify", "x.png", "--nosuch"), "hanzicheck verify: No such option: --nosuch"),
    (("nosuch",), "hanzicheck: No such command 'nosuch'."),
])
def test_a_usage_error_is_one_line_naming_the_option_and_exit_2(monkeypatch, capsys, args, line):
    code, err, out = _main(monkeypatch, capsys, *args)
    assert code == 2 and len(err) == 1 and err[0].startswith(line) and not out


def test_the_entry_point_passes_a_verbs_own_exit_status_on(monkeypatch, capsys, model):
    assert _main(monkeypatch, capsys, "classify", "--model", model, "no_such.png")[:2] == (
        2, ["hanzicheck: no_such.png: no such file or folder"])
    code, err, out = _main(monkeypatch, capsys, "data", "inspect", "strokes")
    assert code == 0 and out
