"""Peak memory of loading a CASIA-HWDB1.0-sized training source, as ``hanzicheck train --gnt`` does.

``--make`` writes a stand-in of HWDB1.0trn_gnt.zip first: one ``.gnt`` per writer inside a zip (as distributed),
every writer writing every class (3,755 GB2312 level-1 hanzi + 111 level-2 = 3,866 classes, all 178 HSK1 among
them), images 50–110 px like HWDB's, in CASIA's low-byte-first tag order. Then it loads the source the way
training does (labels pass, selection, uint8 store, writer split) and prints the peak RSS (ru_maxrss) next to the
RSS after imports (after loading, and after training's writer split), the samples
kept and the bytes they take. The real dataset is licensed; this measures its shape.

    .venv/bin/python benchmarks/bench_casia_memory.py /tmp/casia/HWDB1.0trn_gnt.zip --make --writers 336
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import zipfile
from pathlib import Path

import numpy as np


def _classes(n: int) -> list[str]:
    out = []
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            if 0xD7 == lead and trail > 0xF9:
                break
            out.append(bytes((lead, trail)).decode("gb2312"))
            if len(out) == n:
                return out
    return out


def make(path: Path, writers: int, classes: int, seed: int = 0) -> int:
    """Write the stand-in archive; returns its record count."""
    from hanzicheck.data.formats.gnt import write_gnt
    from hanzicheck.data.sample import Sample

    rng = np.random.default_rng(seed)
    templates = []
    for _ in range(97):  # a few dozen hand-like images, reused: the loader's cost does not depend on ink
        h, w = rng.integers(50, 111, 2)
        image = np.full((h, w), 255, np.uint8)
        for _ in range(int(rng.integers(3, 9))):
            r, c = rng.integers(0, h - 6), rng.integers(0, w - 6)
            if rng.random() < 0.5:
                image[r:r + 4, c:c + int(rng.integers(6, w - c + 1))] = rng.integers(0, 80)
            else:
                image[r:r + int(rng.integers(6, h - r + 1)), c:c + 4] = rng.integers(0, 80)
        templates.append(image)
    chars = _classes(classes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / "_writer.gnt"
    n = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for i in range(writers):
            order = rng.permutation(len(chars))
            n += write_gnt(tmp, (Sample(templates[(i + j) % len(templates)], chars[j]) for j in order),
                           tag_order="reversed")
            z.write(tmp, f"HWDB1.0trn_gnt/{1001 + i}-c.gnt")
    tmp.unlink()
    return n


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("--make", action="store_true", help="write the stand-in archive first")
    ap.add_argument("--writers", type=int, default=336)
    ap.add_argument("--classes", type=int, default=3866)
    args = ap.parse_args()
    if args.make:
        started = time.time()
        records = make(args.source, args.writers, args.classes)
        print(f"wrote {records:,} records to {args.source} ({args.source.stat().st_size / 2**20:,.0f} MiB) "
              f"in {time.time() - started:.0f} s", flush=True)

    from hanzicheck.data.charset import UNKNOWN_INDEX
    from hanzicheck.data.dataset import UnknownCap, load_training_source, writer_split

    base = _rss_mb()
    started = time.time()
    files = load_training_source(args.source, UnknownCap(), use_cache=False)
    loaded = time.time() - started
    load_peak = _rss_mb()
    train_mask, val_mask = writer_split(files.writers, 0.1, 0)  # what train() does next
    held = files.subset(val_mask).as_float32()
    kept = files.compacted(train_mask)
    del files
    print(json.dumps({"samples_kept": len(kept) + len(held), "unknown_share": round(float(
        np.concatenate([kept.y, held.y]).__eq__(UNKNOWN_INDEX).mean()), 3),
        "train_uint8_mb": round(kept.x.nbytes / 2**20, 1), "val_float32_mb": round(held.x.nbytes / 2**20, 1),
        "rss_after_imports_mb": round(base), "peak_rss_load_mb": round(load_peak),
        "peak_rss_with_split_mb": round(_rss_mb()), "load_seconds": round(loaded)}))


if __name__ == "__main__":
    main()
