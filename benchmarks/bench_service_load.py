"""Load test of the HTTP service on loopback: many concurrent requests, every answer checked, requests/s and p95.

Run: .venv/bin/python benchmarks/bench_service_load.py [--model DIR] [--requests 200] [--concurrency 200]
Starts ``uvicorn`` (one worker, the app factory) in a child process on a free 127.0.0.1 port, fires all requests
at once from an async client (mixed: JSON base64 classify, JSON strokes verify, multipart verify), compares each
answer with the recogniser run in this process on the same input, and exits 1 if any is wrong or missing.
Model: --model DIR, else the bundled one, else the newest runs/*/ folder, else the hand-built test model.
Bounded on purpose: loopback only, at most 2000 requests and 500 at once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from hanzicheck.data.render import render_strokes
from hanzicheck.inference.artifacts import bundled_path
from hanzicheck.inference.recognizer import Recognizer

ROOT = Path(__file__).resolve().parents[1]
MAX_REQUESTS, MAX_CONCURRENCY = 2000, 500
CHARS = "大人中国我你好学生水"


def pick_model(arg: Path | None) -> tuple[Path, str]:
    def complete(d: Path) -> bool:
        return all((d / f).is_file() for f in ("model.onnx", "templates.npz", "metadata.json"))

    if arg is not None:
        return arg, "given"
    if complete(bundled_path()):
        return bundled_path(), "bundled"
    runs = sorted((d for d in (ROOT / "runs").glob("*/") if complete(d)), key=lambda d: (d / "model.onnx").stat().st_mtime)
    if runs:
        return runs[-1], "newest run"
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_artifacts import write_fake_artifacts

    return write_fake_artifacts(Path(tempfile.mkdtemp(prefix="hanzicheck-load-"))), "hand-built test model"


def drawings() -> list[tuple[str, list[list[list[float]]]]]:
    """(char, strokes) from the stroke data; simple synthetic strokes when it is not available."""
    try:
        from hanzicheck.data.strokes import StrokeDB

        db = StrokeDB.open()
        return [(c, [m.tolist() for m in db.get(c).medians]) for c in CHARS]
    except Exception:  # offline without the cached stroke data
        rng = np.random.default_rng(0)
        return [(c, [(rng.random((5, 2)) * 100).tolist() for _ in range(3)]) for c in CHARS]


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def make_requests(n: int, rec: Recognizer) -> list[tuple[str, dict, dict]]:
    """(path, httpx request kwargs, expected JSON) for n requests cycling over three input kinds."""
    out = []
    items = drawings()
    for i in range(n):
        char, strokes = items[i % len(items)]
        image = render_strokes(strokes, size=64)
        data = png_bytes(image)
        kind = i % 3
        if kind == 0:
            out.append(("/v1/classify", {"json": {"image": base64.b64encode(data).decode(), "top_k": 5}},
                        rec.classify(data, top_k=5).to_dict()))
        elif kind == 1:
            out.append(("/v1/verify", {"json": {"strokes": strokes, "target": char}},
                        rec.verify(image, char).to_dict()))
        else:
            out.append(("/v1/verify", {"files": {"image": ("d.png", data, "image/png")}, "data": {"target": char}},
                        rec.verify(data, char).to_dict()))
    return out


def start_server(model: Path, threads: int) -> tuple[subprocess.Popen, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    env = {**os.environ, "HANZICHECK_MODEL_DIR": str(model), "HANZICHECK_INFERENCE_THREADS": str(threads)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "hanzicheck.service.app:app_from_env",
                             "--fd", str(sock.fileno()), "--log-level", "warning", "--backlog", "1024"],
                            env=env, pass_fds=[sock.fileno()])
    sock.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the server did not start")
        time.sleep(0.1)


async def fire(url: str, requests: list[tuple[str, dict, dict]], concurrency: int) -> tuple[list, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        async def one(path: str, kwargs: dict, expected: dict) -> tuple[float, bool, str]:
            async with gate:
                t = time.perf_counter()
                try:
                    r = await client.post(path, **kwargs)
                except httpx.HTTPError as e:
                    return time.perf_counter() - t, False, f"{type(e).__name__}: {e}"
                ok = r.status_code == 200 and r.json() == expected
                return time.perf_counter() - t, ok, "" if ok else f"{r.status_code} {r.text[:200]}"

        start = time.perf_counter()
        results = await asyncio.gather(*(one(*req) for req in requests))
        return results, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4, help="server inference threads")
    args = parser.parse_args()
    n = max(1, min(args.requests, MAX_REQUESTS))
    concurrency = max(1, min(args.concurrency, MAX_CONCURRENCY, n))
    model, source = pick_model(args.model)
    rec = Recognizer.load(model)
    requests = make_requests(n, rec)
    proc, url = start_server(model, args.threads)
    try:
        asyncio.run(fire(url, requests[:10], 10))  # warm-up: connections, ONNX Runtime's first runs
        results, wall = asyncio.run(fire(url, requests, concurrency))
    finally:
        proc.terminate()
        proc.wait(10)
    lat = np.array([r[0] for r in results]) * 1e3
    good = sum(r[1] for r in results)
    print(f"model: {model} ({source})")
    print(f"{'requests':<22}{n}\n{'concurrency':<22}{concurrency}\n{'server threads':<22}{args.threads}")
    print(f"{'answered correctly':<22}{good}/{n}")
    print(f"{'wall time':<22}{wall:.2f} s\n{'requests/s':<22}{n / wall:.0f}")
    print(f"{'latency p50':<22}{np.percentile(lat, 50):.0f} ms\n{'latency p95':<22}{np.percentile(lat, 95):.0f} ms")
    print(f"{'latency max':<22}{lat.max():.0f} ms")
    bad = [r[2] for r in results if not r[1]]
    if bad:
        print(f"first failures: {bad[:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
