"""The service under abuse (issue 17): bounded diagnoses, an end-to-end deadline that stops the work, refusal
before work when too many requests are in, one image pipeline with named uploads, CORS, slow headers."""

from __future__ import annotations

import base64
import io
import resource
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from hanzicheck.service.app import create_app  # noqa: E402
from hanzicheck.service.settings import Settings  # noqa: E402


@pytest.fixture(scope="module")
def medians():
    from hanzicheck.data.strokes import StrokeDB

    try:
        db = StrokeDB.open()
    except Exception as e:  # stroke data not downloadable here
        pytest.skip(f"stroke data unavailable: {e}")
    return {c: [m.tolist() for m in db.get(c).medians] for c in "二我影"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def zigzag(strokes: int = 200, points: int = 100) -> list:
    """The probe's drawing: 200 strokes × 100 random points (within the documented limits)."""
    rng = np.random.default_rng(0)
    return [np.round(rng.random((points, 2)) * 1000, 1).tolist() for _ in range(strokes)]


class SlowAnalysis:
    """Stands in for the diagnosis' alignment: works until its deadline (checked as the real loops do)."""

    def __init__(self, block: threading.Event | None = None) -> None:
        self.block = block
        self.ended: list[float] = []

    def __call__(self, subject, medians, rad_strokes=(), deadline=None, name=None):
        try:
            while True:
                deadline.check()
                if self.block is not None and self.block.wait(0.01):
                    from hanzicheck.inference.budget import DiagnosisTimeout

                    raise DiagnosisTimeout("released by the test")
                time.sleep(0.005)
        finally:
            self.ended.append(time.monotonic())


# ------------------------------------------------------------------ defect 1: one diagnosis cannot take the server down


def test_huge_drawing_within_limits_costs_bounded_memory_and_time(artifacts, recognizer, medians):
    app = create_app(Settings(model_dir=artifacts), recognizer=recognizer)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with TestClient(app) as c:
        start = time.perf_counter()
        r = c.post("/v1/diagnose", json={"strokes": zigzag(), "target": "影"})
        took = time.perf_counter() - start
    # aligned in full, then refused by the model's reading: 20,000 random points fill the box with one blot of ink
    assert r.status_code == 400 and "no strokes" in r.json()["message"], r.text
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 300  # it was 4.8 GB
    assert took < 10  # ~0.5 s here; it was 2 minutes of CPU


def test_deadline_is_end_to_end_and_stops_the_work(artifacts, recognizer, medians, monkeypatch):
    slow = SlowAnalysis()
    monkeypatch.setattr("hanzicheck.inference.diagnose.analyse", slow)
    app = create_app(Settings(model_dir=artifacts, request_timeout_s=0.3), recognizer=recognizer)
    with TestClient(app) as c:
        start = time.monotonic()
        r = c.post("/v1/diagnose", json={"strokes": medians["二"], "target": "二"})
        answered = time.monotonic()
        assert r.status_code == 503 and r.json()["error"] == "timeout", r.text
        assert answered - start < 1.0
        deadline = time.monotonic() + 2
        while not slow.ended and time.monotonic() < deadline:
            time.sleep(0.01)
    assert slow.ended, "the diagnosis kept running after the 503"
    assert slow.ended[0] - answered < 1.0  # the work stopped with the answer (ms; slack for a loaded machine)


def test_too_many_diagnoses_get_503_before_any_work(artifacts, recognizer, medians, monkeypatch):
    release = threading.Event()
    slow = SlowAnalysis(block=release)
    monkeypatch.setattr("hanzicheck.inference.diagnose.analyse", slow)
    app = create_app(Settings(model_dir=artifacts, max_diagnose_queue=1, request_timeout_s=20),
                     recognizer=recognizer)
    with TestClient(app) as c:
        first = threading.Thread(target=c.post, args=("/v1/diagnose",),
                                 kwargs={"json": {"strokes": medians["二"], "target": "二"}})
        first.start()
        try:
            deadline = time.monotonic() + 10
            while _admitted(app) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            start = time.monotonic()
            r = c.post("/v1/diagnose", json={"strokes": medians["二"], "target": "二"})
            assert time.monotonic() - start < 1.0
            assert r.status_code == 503 and r.json()["error"] == "busy", r.text
            assert r.headers["retry-after"] == "1"
            ok = c.post("/v1/classify", json={"strokes": medians["二"]})  # classify still has room
            assert ok.status_code == 200, ok.text
        finally:
            release.set()
            first.join(10)
    assert len(slow.ended) == 1  # the refused request never reached the diagnosis


def _admitted(app) -> int:
    """Diagnoses in the service now (the admission middleware's counter)."""
    from hanzicheck.service.limits import AdmissionMiddleware

    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, AdmissionMiddleware):
        layer = getattr(layer, "app", None)
    return 0 if layer is None else layer.counts["diagnoses"]


def test_python_api_has_the_same_budget(recognizer, medians):
    from hanzicheck.inference.diagnose import DiagnosisTimeout

    with pytest.raises(DiagnosisTimeout):
        recognizer.diagnose(zigzag(), "影", timeout_s=0.01)


# ------------------------------------------------------------------ defect 4: one image pipeline


def test_16bit_png_gets_the_same_diagnosis_as_8bit(artifacts, recognizer, medians):
    from hanzicheck.data.render import render_strokes

    ink = render_strokes(medians["二"], size=96)
    eight = np.round(230 - (255 - ink.astype(np.float64)) * (130 / 255)).astype(np.uint8)  # grey on grey
    with TestClient(create_app(Settings(model_dir=artifacts), recognizer=recognizer)) as c:
        r8 = c.post("/v1/diagnose", json={"image": b64(png(eight)), "target": "二"})
        r16 = c.post("/v1/diagnose", json={"image": b64(png(eight.astype(np.uint16) * 257)), "target": "二"})
    assert r8.status_code == 200, r8.text
    assert r16.json() == r8.json()


@pytest.mark.parametrize("route", ["/v1/diagnose", "/v1/classify"])
def test_errors_name_the_upload_not_a_stream(artifacts, recognizer, medians, route):
    fields = {"target": "二"} if route == "/v1/diagnose" else {}
    with TestClient(create_app(Settings(model_dir=artifacts), recognizer=recognizer)) as c:
        r = c.post(route, files={"image": ("drawing.png", b"\x89PNG garbage", "image/png")}, data=fields)
        body = r.json()
        assert r.status_code == 400 and body["error"] == "invalid_image", body
        assert "the uploaded file 'drawing.png'" in body["message"] and "object at 0x" not in body["message"]
        r = c.post(route, json={"image": b64(b"GIF89a garbage"), **fields})
        assert r.status_code == 400 and "the base64 image" in r.json()["message"], r.text


def test_animated_gif_is_refused(artifacts, recognizer, medians):
    frames = [Image.new("L", (64, 64), 255), Image.new("L", (64, 64), 0)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    with TestClient(create_app(Settings(model_dir=artifacts), recognizer=recognizer)) as c:
        r = c.post("/v1/diagnose", json={"image": b64(buf.getvalue()), "target": "二"})
    assert r.status_code == 400 and "animated GIF" in r.json()["message"], r.text


# ------------------------------------------------------------------ CORS


def test_cors_is_off_by_default(artifacts, recognizer):
    with TestClient(create_app(Settings(model_dir=artifacts), recognizer=recognizer)) as c:
        r = c.get("/v1/chars", headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in r.headers


def test_cors_allow_list(artifacts, recognizer):
    settings = Settings(model_dir=artifacts, cors_origins=("https://app.example",))
    with TestClient(create_app(settings, recognizer=recognizer)) as c:
        pre = c.options("/v1/classify", headers={"Origin": "https://app.example", "Access-Control-Request-Method":
                                                 "POST", "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://app.example"
        r = c.get("/v1/chars", headers={"Origin": "https://app.example"})
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        other = c.get("/v1/chars", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cors_origins_from_env(monkeypatch):
    monkeypatch.setenv("HANZICHECK_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings.from_env().cors_origins == ("https://a.example", "https://b.example")


# ------------------------------------------------------------------ slow headers


def test_slow_headers_are_cut_off():
    """A connection that sends half a request head is closed after the header timeout (it stayed open)."""
    import asyncio

    import uvicorn

    from hanzicheck.service.server import header_timeout_protocol

    async def app(scope, receive, send):  # any ASGI app: the protocol is under test
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, fd=sock.fileno(), log_level="warning", http=header_timeout_protocol(0.5),
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow, \
                socket.create_connection(("127.0.0.1", port), timeout=5) as good:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # ... and never the blank line
            start = time.monotonic()
            good.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert good.recv(100).startswith(b"HTTP/1.1 200")
            assert slow.recv(100) == b""  # closed by the server
            assert 0.3 < time.monotonic() - start < 3
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_rendering_a_scribble_is_bounded():
    """200 strokes × 100 random points render in well under a second (0.5 s of GIL-holding drawing before)."""
    from hanzicheck.data.render import render_strokes

    start = time.thread_time()  # this thread's CPU only: other tests' worker threads may still be busy
    image = render_strokes(zigzag(), size=64)
    assert image.shape == (64, 64) and image.min() == 0
    assert time.thread_time() - start < 0.3  # ~0.04 s here


def test_rendering_ordinary_strokes_is_unchanged(medians):
    """Below the vertex cap every point is drawn, as before."""
    from hanzicheck.data import render

    strokes = [np.asarray(m, np.float64) for m in medians["我"]]
    full = render.render_strokes(strokes, size=64)
    original = render.MAX_VERTICES
    try:
        render.MAX_VERTICES = 10**9
        assert np.array_equal(render.render_strokes(strokes, size=64), full)
    finally:
        render.MAX_VERTICES = original
