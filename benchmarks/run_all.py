"""Run every ``benchmarks/bench_*.py`` one after another (same Python) and print their tables.

Run: .venv/bin/python benchmarks/run_all.py [--only NAME ...] [--timeout SECONDS]
Each benchmark runs in its own process with its default arguments; a failing one is reported and the rest go on.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="names like 'inference' or 'bench_synth'")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per benchmark")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {n.removeprefix("bench_").removesuffix(".py") for n in args.only}
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
        if not scripts:
            print(f"no benchmark matches {args.only}", file=sys.stderr)
            return 2
    failed = []
    for script in scripts:
        print(f"## {script.stem}\n", flush=True)
        start = time.perf_counter()
        try:
            rc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        print(f"({script.name}: {time.perf_counter() - start:.0f} s{'' if rc == 0 else f', FAILED ({rc})'})\n",
              flush=True)
        if rc != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
