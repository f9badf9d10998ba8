"""HTTP service: every input kind, every error case, the limits, the model files and the page's static files.

Runs the real app (``create_app``) in-process with httpx's TestClient on the hand-built ONNX model
(``fake_artifacts``: recognises drawings of 一 十 日 人), so it needs no training.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from fake_artifacts import drawings  # noqa: E402
from hanzicheck.data.charset import hsk1_chars  # noqa: E402
from hanzicheck.data.pinyin import pinyin  # noqa: E402
from hanzicheck.data.render import render_strokes  # noqa: E402
from hanzicheck.inference.artifacts import ArtifactsError  # noqa: E402
from hanzicheck.inference.recognizer import Recognizer  # noqa: E402
from hanzicheck.service.app import create_app, static_dir  # noqa: E402
from hanzicheck.service.settings import Settings  # noqa: E402

TEN_STROKES = [[[0, 50], [100, 50]], [[50, 0], [50, 100]]]  # 十 as a canvas records it (y down)


def png(image: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    im = Image.fromarray(image)
    (im.convert(mode) if mode else im).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def client(artifacts: Path) -> TestClient:
    with TestClient(create_app(Settings(model_dir=artifacts))) as c:
        yield c


@pytest.fixture(scope="module")
def ten_png() -> bytes:
    return png(drawings()["十"])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def assert_error(r, status: int, code: str, *words: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error"] == code, body
    for w in words:
        assert w in body["message"], body
    return body


# ------------------------------------------------------------------ input kinds


def test_classify_json_base64(client, ten_png):
    r = client.post("/v1/classify", json={"image": b64(ten_png)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"char", "confidence", "top_k"}
    assert body["char"] == "十"
    assert len(body["top_k"]) == 5 and body["top_k"][0][0] == "十"


def test_classify_matches_the_recognizer(client, recognizer, ten_png):
    r = client.post("/v1/classify", json={"image": b64(ten_png), "top_k": 3})
    assert r.json() == recognizer.classify(ten_png, top_k=3).to_dict()


def test_classify_data_url(client, ten_png):
    r = client.post("/v1/classify", json={"image": "data:image/png;base64," + b64(ten_png)})
    assert r.status_code == 200 and r.json()["char"] == "十"


def test_classify_multipart(client, ten_png):
    r = client.post("/v1/classify", files={"image": ("ten.png", ten_png, "image/png")}, data={"top_k": "2"})
    assert r.status_code == 200, r.text
    assert r.json()["char"] == "十" and len(r.json()["top_k"]) == 2


def test_classify_transparent_canvas_png(client):
    """What the page's fallback sends: black ink on a transparent canvas (composited on white)."""
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., 3] = 255 - drawings()["日"]
    r = client.post("/v1/classify", json={"image": b64(png(rgba))})
    assert r.json()["char"] == "日"


def test_classify_strokes(client):
    r = client.post("/v1/classify", json={"strokes": TEN_STROKES})
    assert r.status_code == 200, r.text
    assert r.json()["char"] == "十"


def test_verify_strokes_are_rendered_server_side(client, recognizer):
    r = client.post("/v1/verify", json={"strokes": TEN_STROKES, "target": "十"})
    assert r.status_code == 200, r.text
    assert r.json() == recognizer.verify(render_strokes(TEN_STROKES, size=64), "十").to_dict()


def test_verify_multipart(client, ten_png):
    r = client.post("/v1/verify", files={"image": ("ten.png", ten_png, "image/png")}, data={"target": "十"})
    assert r.status_code == 200, r.text
    assert r.json() == {"target": "十", "verdict": "correct", "similarity": 1.0, "threshold": 0.9, "score": 1.0,
                        "probability": 0.99, "rank": 1, "reason": None, "other": None, "missing_stroke": None}


def test_verify_wrong_character_names_the_likelier_one(client, ten_png):
    r = client.post("/v1/verify", json={"image": b64(ten_png), "target": "人"})
    body = r.json()
    assert body["verdict"] == "incomplete_or_unclear"
    assert body["reason"] == "other_character" and body["other"] == "十" and body["rank"] > 1


def test_verify_target_outside_hsk1(client, ten_png):
    r = client.post("/v1/verify", json={"image": b64(ten_png), "target": "龍"})
    assert r.status_code == 200
    assert r.json() == {"target": "龍", "verdict": "invalid_target", "similarity": None, "threshold": None,
                        "score": None, "probability": None, "rank": None, "reason": None, "other": None,
                        "missing_stroke": None}


@pytest.mark.parametrize("path", ["/v1/verify", "/v1/diagnose"])
def test_whitespace_around_the_target_is_ignored_as_by_the_cli(client, ten_png, path):
    r = client.post(path, json={"image": b64(ten_png), "target": " 十\n"})
    assert r.status_code == 200 and r.json()["target"] == "十" and r.json()["verdict"] == "correct"
    r = client.post(path, files={"image": ("ten.png", ten_png, "image/png")}, data={"target": "十 "})
    assert r.status_code == 200 and r.json()["target"] == "十"


def test_a_target_of_only_whitespace_is_refused(client, ten_png):
    assert_error(client.post("/v1/verify", json={"image": b64(ten_png), "target": "  "}), 422, "invalid_request",
                 "target")


# ------------------------------------------------------------------ bad input → 4xx with a JSON error


def test_invalid_base64(client):
    assert_error(client.post("/v1/classify", json={"image": "not base64!"}), 400, "invalid_base64", "base64")


def test_bad_data_url(client):
    assert_error(client.post("/v1/classify", json={"image": "data:image/png,abc"}), 400, "invalid_base64", "data:")


def test_not_an_image(client):
    assert_error(client.post("/v1/classify", json={"image": b64(b"hello world")}), 400, "invalid_image",
                 "not an image")


def test_truncated_image(client, ten_png):
    assert_error(client.post("/v1/classify", json={"image": b64(ten_png[:60])}), 400, "invalid_image")


@pytest.mark.parametrize("path", ["/v1/classify", "/v1/verify", "/v1/diagnose"])
def test_blank_image_is_refused_naming_the_drawing(client, path):
    blank, target = png(np.full((64, 64), 255, np.uint8)), {} if path == "/v1/classify" else {"target": "十"}
    body = assert_error(client.post(path, json={"image": b64(blank), **target}), 400, "invalid_image", "no ink")
    assert body["message"].startswith("the base64 image: ")
    r = client.post(path, files={"image": ("blank.png", blank, "image/png")}, data=target)
    assert assert_error(r, 400, "invalid_image")["message"].startswith("the uploaded file 'blank.png': no ink")


def test_empty_upload(client):
    r = client.post("/v1/classify", files={"image": ("e.png", b"", "image/png")})
    assert_error(r, 400, "invalid_image", "empty")


def test_both_image_and_strokes(client, ten_png):
    r = client.post("/v1/classify", json={"image": b64(ten_png), "strokes": TEN_STROKES})
    assert_error(r, 422, "invalid_request", "exactly one")


def test_neither_image_nor_strokes(client):
    assert_error(client.post("/v1/classify", json={"top_k": 3}), 422, "invalid_request", "exactly one")


def test_unknown_field(client, ten_png):
    body = assert_error(client.post("/v1/classify", json={"image": b64(ten_png), "colour": 1}), 422,
                        "invalid_request")
    assert body["details"][0]["loc"] == ["colour"]


@pytest.mark.parametrize("top_k", [0, 21, "five"])
def test_bad_top_k(client, ten_png, top_k):
    assert_error(client.post("/v1/classify", json={"image": b64(ten_png), "top_k": top_k}), 422, "invalid_request",
                 "top_k")


def test_verify_needs_a_target(client, ten_png):
    assert_error(client.post("/v1/verify", json={"image": b64(ten_png)}), 422, "invalid_request", "target")


def test_bad_point(client):
    r = client.post("/v1/classify", json={"strokes": [[[1, 2, 3], [4, 5]]]})
    assert_error(r, 422, "invalid_request", "strokes")


def test_non_finite_coordinate(client):
    r = client.post("/v1/classify", content=b'{"strokes": [[[1, 2], [NaN, 5]]]}',
                    headers={"content-type": "application/json"})
    assert_error(r, 422, "invalid_request")


def test_malformed_json(client):
    r = client.post("/v1/classify", content=b'{"image": ', headers={"content-type": "application/json"})
    assert_error(r, 422, "invalid_request")


def test_unsupported_content_type(client):
    r = client.post("/v1/classify", content=b"abc", headers={"content-type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type", "application/json", "multipart/form-data")


def test_multipart_without_file(client):
    r = client.post("/v1/verify", data={"target": "十"}, files={"other": ("x.txt", b"x", "text/plain")})
    assert_error(r, 422, "invalid_request", "'image'")


@pytest.mark.parametrize("names", [("image", "file"), ("image", "image"), ("image", "other", "more")])
def test_multipart_with_more_than_one_file_is_refused(client, ten_png, names):
    """One drawing per request: a second file is not silently dropped (which one would be answered?)."""
    one = png(drawings()["一"])
    files = [(name, (f"{i}.png", ten_png if i == 0 else one, "image/png")) for i, name in enumerate(names)]
    body = assert_error(client.post("/v1/classify", files=files), 422, "invalid_request", f"{len(names)} files",
                        "one drawing")
    assert all(f"'{name}'" in body["message"] for name in names), body


def test_multipart_garbage(client):
    r = client.post("/v1/classify", content=b"--nope\r\ngarbage",
                    headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert r.status_code in (400, 422), r.text
    assert "error" in r.json()


def test_unknown_route_is_json_404(client):
    assert_error(client.get("/v2/nothing"), 404, "not_found")


def test_wrong_method(client):
    assert_error(client.get("/v1/classify"), 405, "method_not_allowed")


# ------------------------------------------------------------------ limits


@pytest.fixture(scope="module")
def small_client(artifacts: Path) -> TestClient:
    settings = Settings(model_dir=artifacts, max_upload_bytes=20_000, max_pixels=250_000, max_strokes=3,
                        max_points=50)
    with TestClient(create_app(settings)) as c:
        yield c


def test_upload_over_the_byte_limit(small_client):
    noise = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    r = small_client.post("/v1/classify", files={"image": ("n.png", png(noise), "image/png")})
    assert_error(r, 413, "payload_too_large", "20,000")


def test_chunked_body_over_the_limit(small_client):
    def chunks():
        for _ in range(30):
            yield b"x" * 1000

    r = small_client.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_image_over_the_pixel_limit(small_client):
    big = png(np.full((600, 600), 255, np.uint8))  # compresses to a few hundred bytes
    assert len(big) < 20_000
    assert_error(small_client.post("/v1/classify", json={"image": b64(big)}), 413, "too_many_pixels", "600×600")


def test_too_many_strokes(small_client):
    r = small_client.post("/v1/classify", json={"strokes": [[[0, 0], [1, 1]]] * 4})
    assert_error(r, 413, "too_many_strokes", "limit is 3")


def test_too_many_points(small_client):
    r = small_client.post("/v1/classify", json={"strokes": [[[i, i] for i in range(60)]]})
    assert_error(r, 413, "too_many_points", "limit is 50")


class SlowRecognizer:
    """A real recogniser whose inference takes 2 s (to trip the request deadline)."""

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner
        self.artifacts = inner.artifacts

    def classify(self, image, top_k=5):
        time.sleep(2.0)
        return self.inner.classify(image, top_k)


def test_request_timeout(artifacts, recognizer, ten_png):
    app = create_app(Settings(model_dir=artifacts, request_timeout_s=0.2), recognizer=SlowRecognizer(recognizer))
    with TestClient(app) as c:
        start = time.perf_counter()
        r = c.post("/v1/classify", json={"image": b64(ten_png)})
        assert time.perf_counter() - start < 1.5
    assert_error(r, 503, "timeout", "0.2 s")


def test_concurrent_requests_get_their_own_answers(client, ten_png):
    """Many threads at once, two different drawings: each answer belongs to its own request."""
    one = png(drawings()["一"])
    results: dict[int, str] = {}

    def call(i: int) -> None:
        data = ten_png if i % 2 else one
        results[i] = client.post("/v1/classify", json={"image": b64(data)}).json()["char"]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: ("十" if i % 2 else "一") for i in range(16)}


# ------------------------------------------------------------------ service info, model files, page


def test_healthz(client, artifacts):
    assert client.get("/healthz").json() == {"status": "ok", "model": artifacts.name}


def test_version(client):
    body = client.get("/version").json()
    assert body["hanzicheck"] and body["onnxruntime"]
    assert body["model"]["classes"] == 179 and body["model"]["embedding_dim"] == 64


def test_openapi_documents_both_body_kinds(client):
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/v1/verify"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert "target" in content["multipart/form-data"]["schema"]["required"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "static/docs/swagger-ui-bundle.js" in docs.text  # no CDN
    assert "cdn" not in docs.text.lower()
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200


def test_openapi_says_when_diagnose_answers_422_and_503(client):
    responses = client.get("/openapi.json").json()["paths"]["/v1/diagnose"]["post"]["responses"]
    assert "no stroke data" in responses["422"]["description"]
    assert "stroke data cannot be opened" in responses["503"]["description"]


def test_model_file_is_the_artifact(client, artifacts):
    r = client.get("/model/model.onnx")
    assert r.status_code == 200 and r.content == (artifacts / "model.onnx").read_bytes()


def test_templates_json_round_trips(client, recognizer):
    tj = client.get("/model/templates.json").json()
    emb = np.frombuffer(base64.b64decode(tj["embeddings"]), "<f4").reshape(len(tj["chars"]), tj["dim"])
    np.testing.assert_array_equal(emb, recognizer.artifacts.templates)
    assert tj["chars"] == list(hsk1_chars()) and tj["classes"][-1] == "Unknown"
    assert tj["thresholds"] == [pytest.approx(0.9)] * 178 and tj["confidence_threshold"] == 0.3
    assert tj["verdict"]["prob_weight"] == 0 and "drop_templates" not in tj  # not calibrated: similarity only
    # one field for the page: what it still applies and what the model has folded in (Calibration.to_metadata)
    assert tj["calibration"] == recognizer.artifacts.calibration.to_metadata() == \
        {"temperature": 1.0, "unknown_bias": 0.0, "temperature_folded": 1.0, "unknown_bias_folded": 0.0}


def test_page_and_its_files_are_served(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    refs = re.findall(r'(?:src|href)="(static/[^"]+)"', r.text)
    assert "static/app.js" in refs and "static/ort/ort.wasm.min.js" in refs
    for ref in refs:
        assert client.get("/" + ref).status_code == 200, ref
    wasm = client.get("/static/ort/ort-wasm-simd-threaded.wasm")
    assert wasm.headers["content-type"] == "application/wasm"
    assert wasm.content[:4] == b"\0asm"
    assert "javascript" in client.get("/static/ort/ort-wasm-simd-threaded.mjs").headers["content-type"]


def test_vendored_runtime_is_the_pinned_one():
    pins = json.loads((Path(__file__).resolve().parents[2] / "web" / "package.json").read_text())["dependencies"]
    head = (static_dir() / "ort" / "ort.wasm.min.js").read_text(encoding="utf-8")[:200]
    assert f"ONNX Runtime Web v{pins['onnxruntime-web']}" in head, "run `node web/vendor.mjs` after changing the pin"


def test_chars_endpoint_and_static_list_agree_with_pinyin(client):
    table = pinyin()
    assert client.get("/v1/chars").json() == [{"char": c, "pinyin": p} for c, p in table.items()]
    static = json.loads((static_dir() / "chars.json").read_text(encoding="utf-8"))
    assert static == [[c, p] for c, p in table.items()]


def test_pinyin_table():
    table = pinyin()
    assert list(table) == list(hsk1_chars())
    assert (table["我"], table["女"], table["的"], table["谁"], table["喝"]) == ("wǒ", "nǚ", "de", "shéi", "hē")
    assert all(re.fullmatch(r"[a-zü\u0101-\u01dc\u00e0-\u00fa]+", p) for p in table.values())


def test_bad_model_folder_fails_at_start(tmp_path):
    with pytest.raises(ArtifactsError, match="no such folder"):
        create_app(Settings(model_dir=tmp_path / "missing"))


def test_settings_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("HANZICHECK_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("HANZICHECK_MAX_PIXELS", "1000")
    s = Settings.from_env(request_timeout_s=3.0)
    assert (s.model_dir, s.max_pixels, s.request_timeout_s) == (tmp_path, 1000, 3.0)
    monkeypatch.setenv("HANZICHECK_MAX_POINTS", "-5")
    with pytest.raises(ValueError, match="HANZICHECK_MAX_POINTS"):
        Settings.from_env()


def test_serve_command_refuses_a_bad_model(tmp_path):
    from typer.testing import CliRunner

    from hanzicheck.cli import build_app

    result = CliRunner().invoke(build_app(), ["serve", "--model", str(tmp_path / "nope"), "--port", "0"])
    assert result.exit_code == 2
    assert "no such folder" in result.output


# ------------------------------------------------------------------ stroke diagnosis


def test_diagnose_names_the_missing_stroke(client):
    pytest.importorskip("hanzicheck.inference.diagnose")
    from hanzicheck.data.strokes import StrokeDB

    try:
        medians = StrokeDB.open().get("十").medians
    except Exception as e:  # stroke data not downloadable here
        pytest.skip(f"stroke data unavailable: {e}")
    strokes = [m.tolist() for m in medians[:1]]  # 十 without its vertical stroke
    r = client.post("/v1/diagnose", json={"strokes": strokes, "target": "十"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["missing_strokes"] == [1]
    assert len(body["reference_strokes"]) == 2 and body["threshold"] == 0.9


def test_diagnose_gives_the_stroke_order_of_pen_strokes(client):
    """十 written 丨 then 一, the 一 from right to left: stroke 1 drawn before stroke 0, stroke 0 backwards; the
    answer validates against the documented response model."""
    pytest.importorskip("hanzicheck.inference.diagnose")
    from hanzicheck.service.schemas import DiagnoseResponse

    vertical, horizontal = TEN_STROKES[1], TEN_STROKES[0][::-1]
    r = client.post("/v1/diagnose", json={"strokes": [vertical, horizontal], "target": "十"})
    assert r.status_code == 200, r.text
    assert r.json()["stroke_order"] == {"drawn_as": [[1], [0]], "out_of_order": [1], "reversed": [0]}
    assert DiagnoseResponse.model_validate(r.json()).stroke_order.out_of_order == [1]
    in_order = client.post("/v1/diagnose", json={"strokes": TEN_STROKES, "target": "十"}).json()
    assert in_order["stroke_order"] == {"drawn_as": [[0], [1]], "out_of_order": [], "reversed": []}
    assert in_order["verdict"] == r.json()["verdict"]  # order is advice: the verdict is the same


def test_diagnose_of_an_image_has_no_stroke_order(client, ten_png):
    r = client.post("/v1/diagnose", json={"image": b64(ten_png), "target": "十"})
    assert r.status_code == 200, r.text
    assert r.json()["stroke_order"] is None


def test_openapi_documents_the_stroke_order(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    field = schemas["DiagnoseResponse"]["properties"]["stroke_order"]
    assert {"$ref": "#/components/schemas/StrokeOrderOut"} in field["anyOf"] and {"type": "null"} in field["anyOf"]
    assert "stroke_order" in schemas["DiagnoseResponse"]["required"]
    assert set(schemas["StrokeOrderOut"]["required"]) == {"drawn_as", "out_of_order", "reversed"}


def test_diagnose_target_outside_hsk1(client):
    r = client.post("/v1/diagnose", json={"strokes": TEN_STROKES, "target": "龍"})
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "invalid_target" and r.json()["missing_strokes"] == []


def test_diagnose_carries_the_verify_answer_it_rests_on(client):
    """/v1/diagnose's verify fields are /v1/verify's on the same drawing: score, probability and rank too, not
    null beside a threshold on the score's scale."""
    verify = client.post("/v1/verify", json={"strokes": TEN_STROKES, "target": "十"}).json()
    r = client.post("/v1/diagnose", json={"strokes": TEN_STROKES, "target": "十"})
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in verify} == verify
    assert verify["score"] is not None and verify["rank"] == 1


def test_diagnose_reads_the_drawing_before_the_target_as_verify(client):
    """An unreadable drawing is a 400 whatever the target, on /v1/diagnose as on /v1/verify: the target is judged
    by the Python API's diagnosis (an invalid_target answer) only once the drawing has been read."""
    for path in ("/v1/verify", "/v1/diagnose"):
        r = client.post(path, files={"image": ("notes.txt", b"hello world", "text/plain")}, data={"target": "龍"})
        assert_error(r, 400, "invalid_image", "the uploaded file 'notes.txt'", "not an image")


def test_diagnose_target_without_stroke_data_says_what_the_api_says(artifacts, tmp_path):
    """A target the model knows but the stroke data lacks: 422 invalid_target with the Python API's message
    (StrokeDB.get's KeyError, as Recognizer.diagnose_many reports it)."""
    from hanzicheck.data.strokes import StrokeDB

    (tmp_path / "十.json").write_text(json.dumps({"strokes": [], "medians": []}), encoding="utf-8")
    db = StrokeDB.open(tmp_path)
    with pytest.raises(KeyError) as api:
        db.get("人")
    with TestClient(create_app(Settings(model_dir=artifacts))) as c:
        c.app.state.stroke_db = db
        r = c.post("/v1/diagnose", json={"strokes": TEN_STROKES, "target": "人"})
    assert_error(r, 422, "invalid_target", api.value.args[0])


def test_serve_command_serves(artifacts):
    """`hanzicheck serve` in a child process answers on loopback, then stops on SIGTERM."""
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", "from hanzicheck.cli import main; main()", "serve", "--model",
                             str(artifacts), "--port", str(port), "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr and proc.stderr.read()
                time.sleep(0.1)
        assert r.json()["status"] == "ok"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "hanzicheck" in page.text
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert proc.returncode in (0, -15), err  # uvicorn re-raises SIGTERM after its graceful shutdown
    assert f"http://127.0.0.1:{port}/" in err
