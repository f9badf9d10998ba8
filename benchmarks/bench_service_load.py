"""Load test of the HTTP service on loopback: concurrent mixed requests, every answer checked; errors, p50/p95,
the server's peak RSS and the CPU it still uses 5 s after the last answer.

Run: .venv/bin/python benchmarks/bench_service_load.py [--model DIR] [--requests 200] [--concurrency 200]
     [--no-diagnose] [--hostile-every 4] [--workers 1 2]
Starts ``hanzicheck serve`` (uvicorn with its header deadline; ``--workers``: that many server processes, several
values run one after another and end with a table: requests/s and peak RSS per process) on a free 127.0.0.1
port, fires all requests at once from an async client and compares each answer with the recogniser (and the
diagnosis) run in this process on the same input. A third each of classify, verify and diagnose, alternating
their inputs (classify: JSON base64 / multipart; verify: JSON strokes / multipart; diagnose: JSON strokes / base64
image); every ``--hostile-every``-th diagnosis is instead the probe's 200 strokes × 100 random points (the largest
drawing the limits allow). Exits 1 if any answer is wrong, missing or an error other than 503 (busy / past the
deadline: the service's overload answers, counted and shown apart).
Model: --model DIR, else the bundled one, else the newest runs/*/ folder, else the hand-built test model.
Bounded on purpose: loopback only, at most 2000 requests and 500 at once; every wait has a timeout.
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


DIAGNOSIS_FIELDS = ("target", "verdict", "similarity", "missing_strokes", "stroke_scores", "extra_ink")


def hostile_strokes() -> list[list[list[float]]]:
    """The probe's drawing: 200 strokes × 100 random points, within the service's documented limits."""
    rng = np.random.default_rng(17)
    return np.round(rng.random((200, 100, 2)) * 1000, 1).tolist()


def make_requests(n: int, rec: Recognizer, diagnose: bool = True,
                  hostile_every: int = 6) -> list[tuple[str, dict, dict]]:
    """(path, httpx request kwargs, expected JSON) for n requests cycling over the input kinds (module doc).

    A diagnosis is checked on ``DIAGNOSIS_FIELDS``; expected answers are computed once per distinct input."""
    out = []
    items = drawings()
    routes = 3 if diagnose else 2
    cache: dict[tuple, dict] = {}

    def diag(key: tuple, subject, char: str) -> dict:
        if key not in cache:
            cache[key] = {k: v for k, v in rec.diagnose(subject, char, timeout_s=None).to_dict().items()
                          if k in DIAGNOSIS_FIELDS}
        return cache[key]

    for i in range(n):
        char, strokes = items[i % len(items)]
        image = render_strokes(strokes, size=64)
        data = png_bytes(image)
        route, form = i % routes, (i // routes) % 2
        if route == 2 and hostile_every and (i // routes) % hostile_every == hostile_every - 1:
            bad = hostile_strokes()
            out.append(("/v1/diagnose", {"json": {"strokes": bad, "target": "我"}},
                        diag(("hostile",), [np.asarray(s) for s in bad], "我")))
        elif route == 0 and form == 0:
            out.append(("/v1/classify", {"json": {"image": base64.b64encode(data).decode(), "top_k": 5}},
                        rec.classify(data, top_k=5).to_dict()))
        elif route == 0:
            out.append(("/v1/classify", {"files": {"image": ("d.png", data, "image/png")}, "data": {"top_k": "5"}},
                        rec.classify(data, top_k=5).to_dict()))
        elif route == 1 and form == 0:
            out.append(("/v1/verify", {"json": {"strokes": strokes, "target": char}},
                        rec.verify(image, char).to_dict()))
        elif route == 1:
            out.append(("/v1/verify", {"files": {"image": ("d.png", data, "image/png")}, "data": {"target": char}},
                        rec.verify(data, char).to_dict()))
        elif form == 0:
            out.append(("/v1/diagnose", {"json": {"strokes": strokes, "target": char}},
                        diag(("strokes", char), [np.asarray(s) for s in strokes], char)))
        else:
            out.append(("/v1/diagnose", {"json": {"image": base64.b64encode(data).decode(), "target": char}},
                        diag(("image", char), data, char)))
    return out


def matches(path: str, body: dict, expected: dict) -> bool:
    """The answer agrees with the in-process one (on the fields the route returns; a diagnosis on its own)."""
    if path == "/v1/diagnose":
        return {k: body.get(k) for k in DIAGNOSIS_FIELDS} == expected
    return len(body) >= 3 and all(k in expected and body[k] == expected[k] for k in body)


def start_server(model: Path, threads: int, workers: int = 1) -> tuple[subprocess.Popen, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen([sys.executable, "-c", "from hanzicheck.cli import main; main()", "serve", "--host",
                             "127.0.0.1", "--port", str(port), "--model", str(model), "--threads", str(threads),
                             "--workers", str(workers), "--log-level", "warning"])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200 and len(server_pids(proc.pid)) >= workers:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the server did not start")
        time.sleep(0.1)


def server_pids(pid: int) -> list[int]:
    """The processes that serve: ``pid`` itself, or its worker processes with ``serve --workers N`` (N > 1)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in path.read_text().split()] if path.is_file() else []
    workers = [k for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]
    return workers or [pid]


async def fire(url: str, requests: list[tuple[str, dict, dict]], concurrency: int) -> tuple[list, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        async def one(path: str, kwargs: dict, expected: dict) -> tuple[float, bool, str, str, float]:
            async with gate:
                t = time.perf_counter()
                try:
                    r = await client.post(path, **kwargs)
                except httpx.HTTPError as e:
                    return time.perf_counter() - t, False, f"{type(e).__name__}: {e}", path, time.monotonic()
                ok = r.status_code == 200 and matches(path, r.json(), expected)
                why = "" if ok else f"{r.status_code} {r.text[:200]}"
                return time.perf_counter() - t, ok, why, path, time.monotonic()

        start = time.perf_counter()
        results = await asyncio.gather(*(one(*req) for req in requests))
        return results, time.perf_counter() - start


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc); with worker processes, theirs too."""
    total = 0.0
    for p in {pid, *server_pids(pid)}:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def proc_peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4, help="server inference threads (per process)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="server processes (serve --workers); several values run one after another, e.g. 1 2")
    parser.add_argument("--no-diagnose", action="store_true", help="classify and verify only")
    parser.add_argument("--hostile-every", type=int, default=4,
                        help="every Nth diagnosis is the 200-stroke × 100-point drawing (0 = none)")
    args = parser.parse_args()
    n = max(1, min(args.requests, MAX_REQUESTS))
    concurrency = max(1, min(args.concurrency, MAX_CONCURRENCY, n))
    model, source = pick_model(args.model)
    rec = Recognizer.load(model)
    requests = make_requests(n, rec, diagnose=not args.no_diagnose, hostile_every=max(0, args.hostile_every))
    print(f"model: {model} ({source})")
    rows, status = [], 0
    for workers in args.workers:
        row, rc = run_load(args, model, requests, n, concurrency, max(1, min(workers, 8)))
        rows.append(row)
        status = max(status, rc)
    if len(rows) > 1:
        print("\n| server processes | requests/s | p95 ms | peak RSS per process, MiB | errors |")
        print("| ---:| ---:| ---:| ---:| ---:|")
        for r in rows:
            print(f"| {r['workers']} | {r['rps']:.0f} | {r['p95']:.0f} | {r['rss']:.0f} | {r['errors']} |")
    return status


def run_load(args, model: Path, requests: list, n: int, concurrency: int, workers: int) -> tuple[dict, int]:
    """One server (``workers`` processes) under the load; prints its figures, returns (summary row, exit status)."""
    proc, url = start_server(model, args.threads, workers)
    try:
        # warm-up: connections, ONNX Runtime's first runs, the stroke data and each character's drop templates
        seen, warm = set(), []
        for req in requests:
            key = (req[0], json_key(req[1]))
            if key not in seen and len(warm) < 40 * workers:
                seen.add(key)
                warm.append(req)
        asyncio.run(fire(url, warm, 4 * workers))
        pids = server_pids(proc.pid)
        rss_before = max(proc_peak_rss_mb(p) for p in pids)
        results, wall = asyncio.run(fire(url, requests, concurrency))
        last = max(r[4] for r in results)
        cpu_at_last = proc_cpu_s(proc.pid)
        time.sleep(max(0.0, last + 5.0 - time.monotonic()))
        cpu_5s = proc_cpu_s(proc.pid)
        time.sleep(1.0)
        cpu_6s = proc_cpu_s(proc.pid)
        rss = [proc_peak_rss_mb(p) for p in pids]
    finally:
        proc.terminate()
        proc.wait(10)
    lat = np.array([r[0] for r in results]) * 1e3
    good = sum(r[1] for r in results)
    late = [r for r in results if not r[1] and r[2].startswith("503")]
    errors = [r for r in results if not r[1] and not r[2].startswith("503")]
    print(f"\n{'server processes':<34}{workers}")
    print(f"{'requests':<34}{n} ({', '.join(f'{p} {c}' for p, c in count_paths(requests).items())})")
    print(f"{'concurrency':<34}{concurrency}\n{'server threads':<34}{args.threads} per process")
    print(f"{'answered correctly':<34}{good}/{n}")
    print(f"{'503 (busy / past the deadline)':<34}{len(late)}")
    print(f"{'errors (wrong, other status, I/O)':<34}{len(errors)}")
    print(f"{'wall time':<34}{wall:.2f} s\n{'requests/s':<34}{n / wall:.0f}")
    print(f"{'latency p50 / p95 / max':<34}{np.percentile(lat, 50):.0f} / {np.percentile(lat, 95):.0f} / "
          f"{lat.max():.0f} ms")
    for path in sorted(set(r[3] for r in results)):
        sub = np.array([r[0] for r in results if r[3] == path]) * 1e3
        print(f"{'  ' + path + ' p50 / p95':<34}{np.percentile(sub, 50):.0f} / {np.percentile(sub, 95):.0f} ms")
    print(f"{'server peak RSS (after warm-up)':<34}{max(rss):.0f} MiB ({rss_before:.0f} MiB)"
          + (f" per process, {sum(rss):.0f} MiB in all" if workers > 1 else ""))
    print(f"{'server CPU, 5 s after last answer':<34}{cpu_5s - cpu_at_last:.2f} s used in those 5 s; "
          f"{100 * (cpu_6s - cpu_5s):.0f} % of a core in the next second")
    bad = [r[2] for r in results if not r[1]]
    if bad:
        print(f"first failures: {bad[:3]}", file=sys.stderr)
    row = {"workers": workers, "rps": n / wall, "p95": float(np.percentile(lat, 95)), "rss": max(rss),
           "errors": len(errors)}
    return row, 1 if errors else 0


def json_key(kwargs: dict) -> str:
    import json

    body = kwargs.get("json") or {"data": kwargs.get("data"), "files": repr(kwargs.get("files"))[:200]}
    return json.dumps(body, sort_keys=True, default=str)[:2000]


def count_paths(requests: list[tuple[str, dict, dict]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for path, _, _ in requests:
        out[path] = out.get(path, 0) + 1
    return out


if __name__ == "__main__":
    raise SystemExit(main())
