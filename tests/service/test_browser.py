"""The practice page in a real browser: headless Chromium (the first of chromium, chromium-browser, chrome on
PATH) driven by Playwright (web/drive_page.mjs) against a uvicorn server started here on a free loopback port.
Strokes are drawn with mouse events.

- the JS port of preprocess() gives Python's 40×40 tensor (node only, no browser);
- the page runs the model in the browser, and its tensor and similarity equal Python's for the same canvas;
- the page's verify verdict (static/verdict.js) is the recognizer's, reason and score included, under a fitted rule;
- with the WebAssembly runtime blocked it falls back to the server API (phone-sized viewport);
- with a trained model ($HANZICHECK_BROWSER_MODEL, else the bundled one, else the newest runs/*/): a character
  drawn from its stroke data is verified ``correct``; without one stroke it is not, and the page shows that stroke
  as missing (server diagnosis).

Screenshots of every scenario are kept in the test's tmp folder (or $HANZICHECK_SHOTS) and named on failure.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from fake_artifacts import write_fake_artifacts
from guide_images import turned_guides
from hanzicheck.data.preprocess import _paper_level, flatten_paper, preprocess
from hanzicheck.data.render import render_strokes

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "chrome")  # looked up on PATH, in this order
TEN = [[[0, 512], [1024, 512]], [[512, 0], [512, 1024]]]  # 十 in the 1024 box

pytestmark = pytest.mark.browser


def _need_node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (needed to run the web page's JS and the Playwright driver)")
    return node


@pytest.fixture(scope="module")
def node() -> str:
    return _need_node()


@pytest.fixture(scope="module")
def browser(node: str) -> str:
    if find_chromium() is None:
        pytest.skip(f"no Chromium on PATH ({', '.join(CHROMIUM_NAMES)}): run `make browser-deps` (or apt-get "
                    "install chromium)")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        pytest.skip("web/node_modules missing: run `make browser-deps` (npm ci in web/)")
    return node


def find_chromium() -> str | None:
    """The first of :data:`CHROMIUM_NAMES` found on PATH (the driver launches it), or None."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@contextmanager
def serve(model_dir: Path) -> Iterator[str]:
    """The real app on uvicorn, in a thread, on a free loopback port; yields its base URL."""
    import uvicorn

    from hanzicheck.service.app import create_app
    from hanzicheck.service.settings import Settings

    app = create_app(Settings(model_dir=model_dir))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def shots_dir(tmp_path: Path, name: str) -> Path:
    root = Path(os.environ["HANZICHECK_SHOTS"]) if os.environ.get("HANZICHECK_SHOTS") else tmp_path
    return root / name


def drive(node: str, url: str, scenarios: list[dict], tmp_path: Path, name: str, page_errors_ok: bool = False,
          **options) -> dict:
    """Run web/drive_page.mjs; returns its report (fails with the screenshots' folder on a driver error)."""
    shots = shots_dir(tmp_path, name)
    plan = {"url": url, "userDataDir": str(tmp_path / f"profile-{name}"), "shotDir": str(shots),
            "executablePath": find_chromium(), "scenarios": scenarios, **options}
    plan_file = tmp_path / f"plan-{name}.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    proc = subprocess.run([node, str(WEB / "drive_page.mjs"), str(plan_file)], capture_output=True, text=True,
                          timeout=180, cwd=ROOT)
    assert proc.returncode == 0, f"driver failed: {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)
    assert not report.get("fatal"), f"{report['fatal']}\nconsole: {report['console']}\nscreenshots: {shots}"
    assert page_errors_ok or not report["errors"], f"page errors: {report['errors']}\nscreenshots: {shots}"
    return report


def canvas_png(result: dict) -> bytes:
    return base64.b64decode(result["canvas"].split(",", 1)[1])


# ------------------------------------------------------------------ JS preprocessing (node only)


def test_js_preprocess_matches_python(node, tmp_path):
    rng = np.random.default_rng(0)
    images = []
    for size in (40, 64, 300, 700):  # 700 also exercises the >512 box shrink
        strokes = [rng.random((6, 2)) * 100 for _ in range(3)]
        images.append(render_strokes(strokes, size=size))
    images.append(255 - images[1])  # light ink on dark paper
    images.append(images[2][30:250, :])  # not square
    # canvases as the page reads them: black ink on transparent, and light ink on transparent (alpha path)
    alpha = 255 - images[1]
    black = np.dstack([np.zeros_like(alpha)] * 3 + [alpha])
    white = np.dstack([np.full_like(alpha, 255)] * 3 + [alpha])
    images += [black, white]
    # photos' uneven lighting, which both sides divide out (preprocess.flatten_paper): across, and corner to corner
    for im in (images[1], images[2], images[5]):
        h, w = im.shape
        light = 1.0 - 0.45 * np.add.outer(np.arange(h) / h, np.arange(w) / w) / 2
        images.append(np.floor(im * light).astype(np.uint8))
        assert flatten_paper(images[-1]) is not images[-1]  # the case covers the flattening
    # pencil-grey ink under a shadow deep enough that the page first reads as light ink on dark paper
    pencil = 140 + images[2].astype(np.float64) * (115 / 255)
    images.append(np.floor(pencil * np.linspace(1.0, 100 / 255, pencil.shape[1])[None, :]).astype(np.uint8))
    assert _paper_level(images[-1])[1]  # the case covers the inverted first reading
    # a tall photo over 512 px, shrunk much more in height than in width (Pillow 13 would do that pass first),
    # on grainy paper (Pillow's fixed-point rounding between the passes)
    tall = render_strokes([rng.random((5, 2)) * 100 for _ in range(4)], size=1000, pen_width=0.05)[:, 269:730]
    images.append(np.clip(tall + rng.normal(0, 8, tall.shape), 0, 255).astype(np.uint8))
    # practice grids the ink was written over (preprocess.erase_guides): a red 米字格 as an opaque canvas, a grey
    # 田字格 one pixel off square (the diagonals' rounding), ruled lines over 512 px (after the shrink)
    for size, colour, diagonals in ((128, (235, 110, 110), True), (129, (170, 170, 170), False)):
        ink = render_strokes([rng.random((5, 2)) * 100 for _ in range(4)], size=size, pen_width=0.04)
        grid = Image.new("RGB", (size, size), (255, 255, 255))
        draw = ImageDraw.Draw(grid)
        draw.rectangle((3, 3, size - 4, size - 4), outline=colour, width=2)
        for line in [((0, size // 2), (size - 1, size // 2)), ((size // 2, 0), (size // 2, size - 1))] + (
                [((0, 0), (size - 1, size - 1)), ((0, size - 1), (size - 1, 0))] if diagonals else []):
            draw.line(line, fill=colour, width=1)
        rgb = np.rint(np.asarray(grid, np.float64) * (ink[..., None] / 255.0)).astype(np.uint8)
        images.append(np.dstack([rgb, np.full(ink.shape, 255, np.uint8)]) if diagonals else rgb[:, 1:, 0])
        assert erase_guides_found(images[-1])  # the case covers the erasing
    ruled = render_strokes([rng.random((5, 2)) * 100 for _ in range(4)], size=600, pen_width=0.04).copy()
    ruled[20::60] = np.minimum(ruled[20::60], 170)
    images.append(ruled)
    assert erase_guides_found(ruled)
    # the same guides in a photo taken askew (preprocess._tilted): a 田字格 turned 1.5° and one turned −2° (its
    # frame, 1 px from the edge, leaves the image at the corners), ruled lines turned −2.5°
    # on a tall page, and columns of a 米字格 turned 1° on a page one pixel off square
    for size, kind, tilt, inset in ((128, "田字格", 1.5, 3), (128, "田字格", -2.0, 1), ((160, 128), "ruled", -2.5, 3),
                                    ((129, 128), "米字格", 1.0, 3)):
        h, w = (size, size) if isinstance(size, int) else size
        ink = render_strokes([rng.random((5, 2)) * 100 for _ in range(4)], size=max(h, w), pen_width=0.04)[:h, :w]
        images.append(np.minimum(ink, turned_guides(h, w, kind, tilt, inset=inset)))
        assert erase_guides_found(images[-1], turned=True)  # the case covers the turned guides
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([{"w": im.shape[1], "h": im.shape[0],
                                  ("rgba" if im.ndim == 3 else "gray"): im.ravel().tolist()} for im in images]))
    proc = subprocess.run([node, str(WEB / "preprocess_check.mjs"), str(cases)], capture_output=True, text=True,
                          timeout=60, check=True)
    outs = json.loads(proc.stdout)
    for im, js in zip(images, outs, strict=True):
        np.testing.assert_allclose(np.asarray(js, np.float32).reshape(40, 40), preprocess(im), atol=1e-5)


def erase_guides_found(image: np.ndarray, turned: bool = False) -> bool:
    """Whether preprocess erases guide lines from the image (its input differs without erase_guides; ``turned``:
    without reading turned rows and columns, preprocess._tilted)."""
    import hanzicheck.data.preprocess as prep

    name, stand_in = ("_tilted", lambda light, width, transposed: None) if turned else (
        "erase_guides", lambda dark, contrast: dark)
    part = getattr(prep, name)
    try:
        setattr(prep, name, stand_in)
        without = preprocess(image)
    finally:
        setattr(prep, name, part)
    return not np.array_equal(without, preprocess(image))


def test_js_preprocess_refuses_a_blank_image(node, tmp_path):
    cases = tmp_path / "blank.json"
    cases.write_text(json.dumps([{"w": 32, "h": 32, "gray": [250] * 1024}]))
    proc = subprocess.run([node, str(WEB / "preprocess_check.mjs"), str(cases)], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "no ink" in json.loads(proc.stdout)[0]["error"]


def test_js_preprocess_refuses_a_lone_dot_as_python_does(node, tmp_path):
    from hanzicheck.data.preprocess import BLOT_MESSAGE

    dot = np.full((64, 64), 255, np.uint8)
    yy, xx = np.indices(dot.shape)
    dot[(yy - 30) ** 2 + (xx - 33) ** 2 <= 9] = 0  # a tap with a 6 px pen
    with pytest.raises(ValueError, match=BLOT_MESSAGE):
        preprocess(dot)
    cases = tmp_path / "dot.json"
    cases.write_text(json.dumps([{"w": 64, "h": 64, "gray": dot.ravel().tolist()}]))
    proc = subprocess.run([node, str(WEB / "preprocess_check.mjs"), str(cases)], capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(proc.stdout)[0]["error"] == BLOT_MESSAGE


# ------------------------------------------------------------------ the page, on the hand-built model


@pytest.fixture(scope="module")
def fake_model(tmp_path_factory) -> Path:
    return write_fake_artifacts(tmp_path_factory.mktemp("fake_model"))


def test_page_runs_the_model_in_the_browser_like_python(browser, fake_model, tmp_path):
    from hanzicheck.inference.recognizer import Recognizer

    with serve(fake_model) as url:
        report = drive(browser, url, [{"name": "ten", "target": "十", "strokes": TEN}], tmp_path, "desktop")
    res = report["results"][0]
    assert report["engine"] == "browser", report["console"]
    assert res["result"]["classification"]["char"] == "十", res["screenshot"]
    png = canvas_png(res)
    expected = preprocess(png)
    got = np.asarray(res["input"], np.float32).reshape(40, 40)
    assert np.abs(got - expected).max() < 1e-5, f"browser tensor differs from Python's; see {res['screenshot']}"
    server = Recognizer.load(fake_model).verify(png, "十")
    assert res["result"]["verification"]["similarity"] == pytest.approx(server.similarity, abs=1e-4)
    assert res["result"]["verification"]["verdict"] == server.verdict


def test_page_applies_a_calibration_not_yet_exported_like_python(browser, fake_model, tmp_path):
    """An artifacts folder whose metadata still carries a temperature and Unknown offset: the page's
    probabilities are the recognizer's calibrated ones, not the network's raw softmax."""
    from hanzicheck.inference.recognizer import Recognizer

    folder = shutil.copytree(fake_model, tmp_path / "calibrated")
    meta = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**meta, "temperature": 2.0, "unknown_bias": -3.0}))
    with serve(folder) as url:
        report = drive(browser, url, [{"name": "ten", "target": "十", "strokes": TEN}], tmp_path, "calibrated")
    res = report["results"][0]
    assert report["engine"] == "browser", report["console"]
    rec = Recognizer.load(folder)
    probs, _ = rec.run(preprocess(canvas_png(res))[None])
    raw, _ = rec.run(preprocess(canvas_png(res))[None], calibrated=False)
    top = dict(res["result"]["classification"]["top_k"])
    assert not np.allclose(probs, raw, atol=1e-3)
    for char, p in top.items():
        assert p == pytest.approx(float(probs[0, rec.classes.index(char)]), abs=1e-4), char


def test_a_tap_on_the_pad_is_refused_in_the_browser_as_on_the_server(browser, fake_model, tmp_path):
    """A lone dot is the drawing's fault, not the engine's: the page says what the server would and keeps running
    the model in the browser."""
    from hanzicheck.data.preprocess import BLOT_MESSAGE

    with serve(fake_model) as url:
        report = drive(browser, url, [{"name": "tap", "target": "十", "strokes": [[[512, 512]]]}], tmp_path, "tap")
    res = report["results"][0]
    assert report["engine"] == "browser", report["console"]
    assert res["verdictText"] == BLOT_MESSAGE, res["screenshot"]
    assert res["engine"] == "browser"


ONE = [[[0, 512], [1024, 512]]]  # 一: 十 without its vertical stroke (stroke 1)
SUN = [[[200, 60], [200, 960]], [[200, 60], [820, 60], [820, 960]], [[200, 512], [820, 512]],
       [[200, 960], [820, 960]]]  # 日


def test_page_gives_the_same_verdict_as_python(browser, fake_model, tmp_path):
    """A fitted verify rule (probability weight, stroke-drop templates, thresholds): the page's in-browser verdict,
    reason and score equal the recognizer's on the same canvas, for a correct 十, a 十 with a stroke missing (一)
    and another character (日)."""
    from fake_artifacts import add_verdict_rule, drawings, vertical_bar
    from hanzicheck.inference.recognizer import Recognizer

    d = drawings()
    folder = add_verdict_rule(shutil.copytree(fake_model, tmp_path / "rule"),
                              {"prob_weight": 0.05, "log_p_floor": -10, "max_drop_margin": 0.02, "max_rank": 20},
                              thresholds=0.65, drop_rows={"十": [d["十"], vertical_bar(), d["一"]]})
    scenarios = [{"name": "ten", "target": "十", "strokes": TEN}, {"name": "one-for-ten", "target": "十",
                 "strokes": ONE}, {"name": "sun-for-ten", "target": "十", "strokes": SUN}]
    with serve(folder) as url:
        report = drive(browser, url, scenarios, tmp_path, "rule")
    assert report["engine"] == "browser", report["console"]
    rec = Recognizer.load(folder)
    reasons = []
    for sc, res in zip(scenarios, report["results"], strict=True):
        page = res["result"]["verification"]
        python = rec.verify(canvas_png(res), sc["target"]).to_dict()
        for key in ("verdict", "reason", "other", "missing_stroke", "rank"):
            assert page[key] == python[key], f"{sc['name']} {key}: page {page}, Python {python}; {res['screenshot']}"
        for key in ("similarity", "score", "probability", "threshold"):
            assert page[key] == pytest.approx(python[key], abs=2e-4), f"{sc['name']} {key}"
        reasons.append(page["reason"])
    assert reasons == [None, "missing_stroke", "other_character"]  # each way of answering is exercised
    assert report["results"][1]["verdictText"] == "✗ Not quite: stroke 2 of 十 looks missing"


def test_page_falls_back_to_the_server_on_a_phone(browser, fake_model, tmp_path):
    with serve(fake_model) as url:
        report = drive(browser, url, [{"name": "ten-phone", "target": "十", "strokes": TEN}], tmp_path, "phone",
                       page_errors_ok=True, block=["**/*.wasm"], viewport={"width": 390, "height": 844},
                       deviceScaleFactor=2, isMobile=True, hasTouch=True)
    res = report["results"][0]
    assert report["engine"] == "server", report["console"]
    assert any("wasm" in e for e in report["errors"])  # the runtime failed to start, as arranged
    assert res["result"]["classification"]["char"] == "十", res["screenshot"]
    assert res["canvasSize"][0] <= 512  # the page keeps its canvas small enough to skip the shrink step


def test_page_says_so_when_the_character_list_does_not_load(browser, fake_model, tmp_path):
    with serve(fake_model) as url:
        report = drive(browser, url, [], tmp_path, "no-chars", page_errors_ok=True, block=["**/chars.json"])
    assert report["startText"]["engine"] == "unavailable"
    assert report["startText"]["verdict"].startswith("Cannot load the character list"), report["console"]


# ------------------------------------------------------------------ a trained model: correct vs missing stroke

# A robust pair: 大 without its horizontal stroke is 人, another HSK1 character, not an incomplete 大.
CHAR, DROPPED = "大", 0


def trained_model() -> Path | None:
    """$HANZICHECK_BROWSER_MODEL, else the bundled model, else the newest complete runs/*/ folder."""
    from hanzicheck.inference.artifacts import bundled_path

    def complete(d: Path) -> bool:
        return all((d / f).is_file() for f in ("model.onnx", "templates.npz", "metadata.json"))

    if os.environ.get("HANZICHECK_BROWSER_MODEL"):
        return Path(os.environ["HANZICHECK_BROWSER_MODEL"])
    if complete(bundled_path()):
        return bundled_path()
    runs = [d for d in (ROOT / "runs").glob("*/") if complete(d)]
    return max(runs, key=lambda d: (d / "model.onnx").stat().st_mtime) if runs else None


def model_and_medians() -> tuple[Path, list[list[list[float]]]]:
    """The trained model the page tests use and CHAR's reference strokes (skips the test without either)."""
    model = trained_model()
    if model is None:
        pytest.skip("no trained model: no $HANZICHECK_BROWSER_MODEL, no bundled one (hanzicheck/assets/model), "
                    "no complete runs/*/ folder")
    from hanzicheck.data.strokes import StrokeDB

    try:
        return model, [m.tolist() for m in StrokeDB.open().get(CHAR).medians]
    except Exception as e:
        pytest.skip(f"stroke data unavailable: {e}")


def test_a_correct_character_drawn_out_of_order_and_backwards_says_so_and_stays_correct(browser, tmp_path):
    model, (first, second, third) = model_and_medians()  # 大: 一 丿 乀
    with serve(model) as url:  # 一 drawn right to left, then 乀 before 丿
        report = drive(browser, url, [{"name": "order", "target": CHAR, "strokes": [first[::-1], third, second],
                                       "waitDiagnosis": True}], tmp_path, "order")
    (order,) = report["results"]
    assert order["result"]["verification"]["verdict"] == "correct", order["screenshot"]
    assert order["result"]["diagnosis"]["stroke_order"]["out_of_order"] == [2], order["screenshot"]
    assert order["orderText"] == "Stroke order: stroke 3 drawn before an earlier stroke; stroke 1 drawn backwards."
    assert order["missingText"] is None


def test_drawn_character_is_correct_and_missing_stroke_is_not(browser, tmp_path):
    model, medians = model_and_medians()
    partial = [m for i, m in enumerate(medians) if i != DROPPED]
    with serve(model) as url:
        report = drive(browser, url, [
            {"name": "full", "target": CHAR, "strokes": medians},
            {"name": "missing", "target": CHAR, "strokes": partial, "waitDiagnosis": True},
        ], tmp_path, "trained")
    full, missing = report["results"]
    assert report["engine"] == "browser", report["console"]
    assert full["result"]["verification"]["verdict"] == "correct", \
        f"{full['result']} ({model}); screenshot: {full['screenshot']}"
    assert missing["result"]["verification"]["verdict"] == "incomplete_or_unclear", \
        f"{missing['result']} ({model}); screenshot: {missing['screenshot']}"
    assert missing["result"]["verification"]["similarity"] < full["result"]["verification"]["similarity"]
    # the server's stroke diagnosis names the dropped stroke, and the page says so
    assert missing["result"]["diagnosis"]["missing_strokes"] == [DROPPED], missing["screenshot"]
    assert missing["missingText"].startswith(f"Missing stroke {DROPPED + 1} ")
    # the score bar shows the threshold inside it, and the correct drawing's score past it (the rule's scores and
    # thresholds lie below 0 with a probability weight)
    assert 0 < full["bar"]["threshold"] < full["bar"]["fill"] <= 100, (full["bar"], full["screenshot"])

