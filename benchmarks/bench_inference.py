"""Inference speed: single-image latency (classify, verify; 1 thread), batch throughput, load time, model sizes
(fp32, int8 with its accuracy on the real dev data), and the speed ratio against Keras and RapidOCR.

Run: .venv/bin/python benchmarks/bench_inference.py [--model DIR] [--n 500]
Model: --model DIR, else the bundled model, else an untrained model of the default architecture (exported here
with TensorFlow: its latency is representative, its accuracy is not).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from hanzicheck.data.preprocess import preprocess
from hanzicheck.inference.artifacts import bundled_path
from hanzicheck.inference.recognizer import Recognizer

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
TARGET_P50_MS = 1.0


def _times(fn, n: int, warm: int = 20) -> np.ndarray:
    for _ in range(warm):
        fn()
    out = np.empty(n)
    for i in range(n):
        t = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t
    return out * 1e3


def _row(name: str, ms: np.ndarray) -> tuple[str, str, str]:
    return name, f"{np.percentile(ms, 50):.3f}", f"{np.percentile(ms, 95):.3f}"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w if i == 0 else "-" * (w - 1) + ":" for i, w in enumerate(widths)) + " |")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                for i, (c, w) in enumerate(zip(r, widths, strict=True))) + " |")
    print()


def _untrained_model(out: Path) -> Path:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from hanzicheck.engine.export import write_artifacts
    from hanzicheck.models import create_model

    model = create_model("resnet")
    templates = np.random.default_rng(0).normal(size=(178, 512)).astype(np.float32)
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    write_artifacts(model, out, templates, {"note": "untrained: latency benchmark only"})
    return out


def _images(n: int) -> tuple[list[np.ndarray], list[str]]:
    """Real Chinese MNIST images when available (64×64, light on dark), else synthesised characters."""
    if (REAL / "chinese_mnist_dev.npz").is_file():
        z = np.load(REAL / "chinese_mnist_dev.npz")
        idx = np.random.default_rng(0).permutation(len(z["labels"]))[:n]
        return list(z["images"][idx]), [str(s) for s in z["labels"][idx]]
    from hanzicheck.data.charset import hsk1_chars
    from hanzicheck.data.synth.synthesizer import Synthesizer

    synth, rng, chars = Synthesizer(), np.random.default_rng(0), hsk1_chars()
    labels = [chars[i % 178] for i in range(n)]
    return [synth.char(c, rng) for c in labels], labels


def _quantize(src: Path, dst: Path) -> bool:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        return False
    shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.keras"))
    quantize_dynamic(str(src / "model.onnx"), str(dst / "model.onnx"), weight_type=QuantType.QInt8)
    return True


def _rapidocr():
    """A RapidOCR engine (recognition only) if a RapidOCR package is installed, else (None, why)."""
    for module in ("rapidocr", "rapidocr_onnxruntime"):
        try:
            mod = __import__(module)
            return mod.RapidOCR(), module
        except ImportError:
            continue
        except Exception as e:  # models missing / downloads refused offline
            return None, f"{module} is installed but did not start: {type(e).__name__}: {e}"
    return None, "RapidOCR is not installed (pip install rapidocr-onnxruntime): skipped"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="artifacts folder (default: bundled, else untrained)")
    parser.add_argument("--n", type=int, default=500, help="timed repetitions per latency measurement")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 quantisation check")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="hanzicheck-bench-"))
    model_dir = args.model
    note = ""
    if model_dir is None:
        if (bundled_path() / "model.onnx").is_file():
            model_dir, note = bundled_path(), "bundled model"
        else:
            print("no bundled model: exporting an untrained model of the default architecture (latency only)\n")
            model_dir, note = _untrained_model(tmp / "untrained"), "untrained default architecture"
    else:
        note = str(model_dir)

    t = time.perf_counter()
    rec = Recognizer.load(model_dir, threads=1)
    load_ms = (time.perf_counter() - t) * 1e3
    images, labels = _images(512)
    img = images[0]
    x1 = preprocess(img)[None, ..., None]
    target = "我" if "我" in rec.artifacts.chars else rec.artifacts.chars[0]  # 7 strokes: the drop templates count

    print(f"model: {note} ({model_dir})")
    print(f"Recognizer.load: {load_ms:.0f} ms\n")
    single = [
        _row("preprocess (64×64 uint8)", _times(lambda: preprocess(img), args.n)),
        _row("model only (ONNX Runtime, 1 image)", _times(lambda: rec.run(x1), args.n)),
        _row("classify (preprocess + model)", _times(lambda: rec.classify(img), args.n)),
        _row("verify (preprocess + model + verdict rule)", _times(lambda: rec.verify(img, target), args.n)),
    ]
    print("Single image, 1 thread (ms):")
    _table(("what", "p50", "p95"), single)
    p50 = float(single[2][1])
    print(f"classify p50 {p50:.3f} ms: {'meets' if p50 <= TARGET_P50_MS else 'MISSES'} the ≤ {TARGET_P50_MS} ms target")
    v50 = float(single[3][1])
    print(f"verify p50 {v50:.3f} ms: {'meets' if v50 <= TARGET_P50_MS else 'MISSES'} the ≤ {TARGET_P50_MS} ms target\n")

    x = np.stack([preprocess(i) for i in images])[..., None]
    rows = []
    for threads in (1, 2):
        r = Recognizer.load(model_dir, threads=threads)
        r.run(x[:64])
        t = time.perf_counter()
        r.run(x)
        rows.append((f"model, batch {len(x)}, {threads} thread(s)", f"{len(x) / (time.perf_counter() - t):,.0f}"))
    t = time.perf_counter()
    rec.classify(images)
    rows.append((f"classify list of {len(images)} (with preprocess), 1 thread",
                 f"{len(images) / (time.perf_counter() - t):,.0f}"))
    print("Throughput (images/s):")
    _table(("what", "images/s"), rows)

    sizes = [("model.onnx fp32", f"{(Path(model_dir) / 'model.onnx').stat().st_size / 1e6:.2f}")]
    keras_file = Path(model_dir) / "model.keras"
    if keras_file.is_file():
        sizes.append(("model.keras", f"{keras_file.stat().st_size / 1e6:.2f}"))
    int8_rows = []
    if not args.no_int8 and _quantize(Path(model_dir), tmp / "int8"):
        sizes.append(("model.onnx int8 (dynamic)", f"{(tmp / 'int8' / 'model.onnx').stat().st_size / 1e6:.2f}"))
        q = Recognizer.load(tmp / "int8", threads=1)
        p32, e32 = rec.run(x)
        p8, e8 = q.run(x)
        agree = float((p32.argmax(1) == p8.argmax(1)).mean())
        cls = rec.classes
        acc32 = float(np.mean([cls[i] == lab for i, lab in zip(p32.argmax(1), labels, strict=True)]))
        acc8 = float(np.mean([cls[i] == lab for i, lab in zip(p8.argmax(1), labels, strict=True)]))
        cos = float(np.mean(np.sum(e32 * e8, 1) / (np.linalg.norm(e32, axis=1) * np.linalg.norm(e8, axis=1))))
        int8_rows = [("top-1 agreement int8 vs fp32", f"{agree:.4f}"),
                     ("arg-max = label, fp32 (dev images)", f"{acc32:.4f}"),
                     ("arg-max = label, int8 (dev images)", f"{acc8:.4f}"),
                     ("embedding cosine int8 vs fp32", f"{cos:.4f}"),
                     ("int8 model only, 1 image p50 ms", f"{np.percentile(_times(lambda: q.run(x1), args.n), 50):.3f}")]
    print("Model files (MB):")
    _table(("file", "MB"), sizes)
    if int8_rows:
        print(f"int8 check on {len(x)} dev images (labels outside the model's classes never match):")
        _table(("what", "value"), int8_rows)

    compare = []
    onnx_p50 = float(single[1][1])
    if keras_file.is_file():
        import os

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras

        km = keras.models.load_model(keras_file, compile=False)
        km.predict(x1, verbose=0)
        k_ms = np.percentile(_times(lambda: km.predict(x1, verbose=0), max(20, args.n // 10), warm=3), 50)
        c_ms = np.percentile(_times(lambda: km(x1, training=False), max(20, args.n // 10), warm=3), 50)
        compare += [("Keras model.predict (1 image)", f"{k_ms:.3f}", f"{k_ms / onnx_p50:.0f}×"),
                    ("Keras model(x) eager call (1 image)", f"{c_ms:.3f}", f"{c_ms / onnx_p50:.0f}×")]
    engine, why = _rapidocr()
    if engine is not None:
        rgb = np.stack([255 - img if np.median(img) < 128 else img] * 3, -1).astype(np.uint8)
        try:
            r_ms = np.percentile(_times(lambda: engine(rgb, use_det=False, use_cls=False, use_rec=True),
                                        max(20, args.n // 10), warm=3), 50)
            full_ms = np.percentile(_times(lambda: engine(rgb), max(20, args.n // 10), warm=3), 50)
            ours = float(single[2][1])
            compare += [(f"RapidOCR ({why}) recognition only", f"{r_ms:.3f}", f"{r_ms / ours:.0f}× (vs classify)"),
                        (f"RapidOCR ({why}) det+cls+rec", f"{full_ms:.3f}", f"{full_ms / ours:.0f}× (vs classify)")]
        except Exception as e:  # API differences between RapidOCR versions
            why = f"RapidOCR failed: {type(e).__name__}: {e}"
            engine = None
    print("Against other runtimes, 1 image (ms; ratio = their time / ours, ONNX model-only unless noted):")
    _table(("what", "p50 ms", "ratio"), compare or [("(nothing to compare: no model.keras, no RapidOCR)", "", "")])
    if engine is None:
        print(f"RapidOCR: {why}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
