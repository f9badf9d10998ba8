"""The classify and verify verbs on real image files, with the hand-built ONNX model (fake_artifacts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from fake_artifacts import drawings, write_fake_artifacts
from hanzicheck.cli import build_app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = {"一": "a_one.png", "十": "b_ten.jpg", "人": "c_person.bmp", "Unknown": "d_ring.webp"}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_fake_artifacts(tmp_path_factory.mktemp("model"))


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for char, name in NAMES.items():
        Image.fromarray(drawings()[char]).save(folder / name)
    (folder / "notes.txt").write_text("not an image, not listed")
    return folder


def _run(*args):
    result = runner.invoke(build_app(), [str(a) for a in args])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, lines


def test_classify_folder_json_lines_sorted(images, model):
    result, lines = _run("classify", images, "--json", "--model", model, "--top-k", "2")
    assert result.exit_code == 0, result.output
    assert [line["file"].rsplit("/", 1)[-1] for line in lines] == sorted(NAMES.values())
    assert [line["char"] for line in lines] == ["一", "十", "人", "Unknown"]
    assert list(lines[0]) == ["file", "char", "confidence", "top_k"] and len(lines[0]["top_k"]) == 2


def test_bad_image_in_folder_gets_its_own_line(images, model):
    (images / "b_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result, lines = _run("classify", images, "--json", "--model", model)
    assert result.exit_code == 0, result.output
    assert len(lines) == 5
    broken = [line for line in lines if line["file"].endswith("b_broken.png")][0]
    assert "error" in broken and "char" not in broken
    assert sum("char" in line for line in lines) == 4


def test_unreadable_named_file_exits_2(images, model, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    result, lines = _run("classify", images / NAMES["一"], bad, "--json", "--model", model)
    assert result.exit_code == 2
    assert lines[0]["char"] == "一" and "error" in lines[1]
    assert "not an image" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_path_exits_2(model, tmp_path):
    result, _ = _run("classify", tmp_path / "nope.png", "--model", model)
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_missing_model_exits_2(images, tmp_path):
    result, _ = _run("classify", images, "--model", tmp_path / "no_model")
    assert result.exit_code == 2 and "model.onnx" in result.stderr


def test_classify_table_without_json(images, model):
    result, lines = _run("classify", images, "--model", model)
    assert result.exit_code == 0 and not lines
    assert "a_one.png" in result.stdout and "Unknown" in result.stdout


def test_verify_path_and_target(images, model):
    result, lines = _run("verify", images / NAMES["十"], images / NAMES["一"], "--target", "十", "--json",
                         "--model", model)
    assert result.exit_code == 0, result.output
    assert [line["verdict"] for line in lines] == ["correct", "incomplete_or_unclear"]
    assert list(lines[0]) == ["file", "target", "verdict", "similarity", "threshold", "score", "probability", "rank",
                              "reason", "other", "missing_stroke"]


@pytest.mark.parametrize("target", ["A", "百", "我你", "😀", "Unknown"])
def test_verify_target_the_model_does_not_know_exits_2(target, images, model):
    result, lines = _run("verify", images / NAMES["十"], "--target", target, "--json", "--model", model)
    assert result.exit_code == 2 and not lines
    assert result.stderr.strip().splitlines() == [
        f"hanzicheck: unknown target {target!r}: it must be one of the model's 178 HSK1 characters (e.g. 我)"]


def test_verify_explain_says_why_each_image_was_refused(images, model):
    """一 against 十: the fake model's classifier finds 一 likelier, and says so; the stroke diagnosis is not
    needed for that. 十 passes."""
    result, lines = _run("verify", images / NAMES["十"], images / NAMES["一"], "--target", "十", "--explain",
                         "--json", "--model", model)
    assert result.exit_code == 0, result.output
    ok, refused = lines
    assert ok["why"] == "this is 十" and ok["reason"] is None
    assert refused["reason"] == "other_character" and refused["other"] == "一"
    assert refused["why"] == "this looks more like 一 than 十" and "diagnosis_missing_strokes" not in refused


def test_verify_explain_leads_with_the_verdicts_own_reason_and_adds_the_stroke_diagnosis_after_it():
    """A real 百 (not an HSK1 character) against 八 with the bundled model: refused, and ``why`` first says the
    verdict's reason; the stroke diagnosis, which always finds some stroke of 八 missing in 百, only follows it."""
    from hanzicheck.inference.results import Verification

    result, (line,) = _run("verify", EXAMPLES / "real_bai_writer7.png", "--target", "八", "--explain", "--json")
    assert result.exit_code == 0, result.output
    fields = {k: line[k] for k in ("target", "verdict", "similarity", "threshold", "score", "probability", "rank",
                                   "reason", "other", "missing_stroke")}
    own, _, diagnosis = line["why"].partition("; ")
    assert line["verdict"] == "incomplete_or_unclear" and own == Verification(**fields).explanation()
    missing = line["diagnosis_missing_strokes"]
    assert missing and diagnosis == f"the stroke diagnosis finds stroke{'s' if len(missing) > 1 else ''} " + ", ".join(
        str(k + 1) for k in missing) + " missing"


def test_verify_explain_table_has_a_why_column(images, model):
    result, _ = _run("verify", images / NAMES["一"], "--target", "十", "--explain", "--model", model)
    assert result.exit_code == 0, result.output
    assert "why" in result.stdout and "like 一 than 十" in result.stdout  # wrapped to the terminal width


def test_verify_pairs_csv_relative_paths(images, model):
    csv_path = images.parent / "pairs.csv"
    csv_path.write_text(f"file,target\nimgs/{NAMES['人']},人\nimgs/{NAMES['人']},十\nimgs/{NAMES['一']},龍\n",
                        encoding="utf-8")
    result, lines = _run("verify", "--pairs", csv_path, "--json", "--model", model)
    assert result.exit_code == 0, result.output
    assert [(line["target"], line["verdict"]) for line in lines] == [
        ("人", "correct"), ("十", "incomplete_or_unclear"), ("龍", "invalid_target")]
    assert lines[2]["similarity"] is None


@pytest.mark.parametrize("args, words", [
    (["verify", "X"], "--target"),
    (["verify"], "--pairs"),
])
def test_verify_bad_arguments_exit_2(args, words, model, images):
    args = [images if a == "X" else a for a in args]
    result, _ = _run(*args, "--model", model)
    assert result.exit_code == 2 and words in result.stderr


def test_pairs_csv_without_target_column(images, model):
    csv_path = images.parent / "pairs.csv"
    csv_path.write_text("file,label\nimgs/a_one.png,一\n", encoding="utf-8")
    result, _ = _run("verify", "--pairs", csv_path, "--model", model)
    assert result.exit_code == 2 and "'target'" in result.stderr


@pytest.mark.parametrize("verb", [["classify"], ["verify", "--target", "十"]])
@pytest.mark.parametrize("threads", ["0", "-2"])
def test_threads_below_one_is_a_usage_error(verb, threads, images, model):
    result, lines = _run(verb[0], images / NAMES["十"], *verb[1:], "--threads", threads, "--json", "--model", model)
    assert result.exit_code == 2 and not lines
    assert "Invalid value for '--threads'" in result.output


def test_folder_walk_takes_every_format_the_decoder_reads_and_no_other():
    from PIL import Image

    from hanzicheck.cli.predict_cmds import IMAGE_EXTS
    from hanzicheck.data.preprocess import ALLOWED_FORMATS

    Image.init()
    assert {Image.registered_extensions()[e] for e in IMAGE_EXTS} == set(ALLOWED_FORMATS)


def test_classify_help_names_every_image_type_it_reads():
    result = runner.invoke(build_app(), ["classify", "--help"], terminal_width=250)
    assert result.exit_code == 0
    assert "(png/jpg/jpeg/bmp/webp/gif/tif/tiff)" in result.output
