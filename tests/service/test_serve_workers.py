"""`hanzicheck serve --workers N`: N server processes on one port, each with the command's settings."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("uvicorn")

from fake_artifacts import write_fake_artifacts  # noqa: E402


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.is_file() else []


def is_server_process(pid: int) -> bool:
    try:
        return "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def test_settings_reach_the_worker_processes_unchanged(tmp_path):
    from hanzicheck.service.settings import Settings
    from hanzicheck.service.workers import settings_env

    settings = Settings(model_dir=tmp_path, request_timeout_s=3.5, max_upload_bytes=12345, inference_threads=2,
                        header_timeout_s=7.0, cors_origins=("https://a.example", "https://b.example"))
    env = settings_env(settings)
    from_env = pytest.MonkeyPatch()
    try:
        for key, value in env.items():
            from_env.setenv(key, value)
        assert Settings.from_env() == settings
    finally:
        from_env.undo()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from Linux /proc")
def test_two_worker_processes_answer_on_one_port(tmp_path):
    import httpx

    from hanzicheck.inference.recognizer import Recognizer

    artifacts = write_fake_artifacts(tmp_path / "model")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", "from hanzicheck.cli import main; main()", "serve", "--model",
                             str(artifacts), "--port", str(port), "--workers", "2", "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    image = np.full((64, 64), 255, np.uint8)
    image[30:34, 8:56] = 0
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    expected = Recognizer.load(artifacts).classify(buf.getvalue(), top_k=3).to_dict()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr and proc.stderr.read()
                time.sleep(0.2)
        for _ in range(10):  # a new connection each time: the kernel hands them to either process
            r = httpx.post(f"http://127.0.0.1:{port}/v1/classify", timeout=10,
                           files={"image": ("a.png", buf.getvalue(), "image/png")}, data={"top_k": "3"})
            assert r.status_code == 200 and r.json()["char"] == expected["char"], r.text
        servers = [c for c in children(proc.pid) if is_server_process(c)]
        assert len(servers) == 2
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "with 2 processes" in err
    assert not any(Path(f"/proc/{pid}").exists() and is_server_process(pid) for pid in servers)
