"""The run folder's life cycle: a fresh run never overwrites a previous one, and a resumed run continues exactly
where the last consistent epoch left it.

After every epoch ``RunCheckpoint`` (engine/callbacks.py) writes, in this order: the new best.keras and last.keras
under epoch-tagged pending names (``best.e3.keras``), then state.json (the commit point: epoch count, best score,
the pending files), then renames the pending files into place. A run killed at any moment therefore leaves either
the previous epoch's state with uncommitted pending files (deleted on resume) or the new state with its pending
files complete (renamed on resume). history.csv may hold a row past the committed epoch; resume trims it.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

# Every file a training run writes into its folder (config, progress, checkpoints, metrics, artifacts).
RUN_FILES = ("config.json", "history.csv", "curves.png", "metrics.json", "state.json", "best.keras", "last.keras",
             "model.keras", "model.onnx", "templates.npz", "metadata.json")
_PENDING = re.compile(r"^(best|last)\.e\d+\.keras$")
# What ``hanzicheck export`` writes (engine/export.py): the spec's names, and the bundle. model.keras (~2 MB, no
# optimizer state) rides along so `export <bundle> --seed-names` serves the spec's snippet.
SEED_MODEL_NAME = "chinese_hsk1_model_v5.keras"
SEED_TEMPLATES_NAME = "templates_v5.npz"
BUNDLE_FILES = ("model.onnx", "templates.npz", "metadata.json", "model.keras")
SEED_SOURCE_FILES = ("model.keras", "templates.npz")  # what the spec's names are written from


class RunFolderError(ValueError):
    """The run folder cannot be used as asked: it holds a previous run, or nothing consistent to resume."""


def pending_name(name: str, epochs_done: int) -> str:
    """``best.keras`` → ``best.e3.keras``: the checkpoint of epoch 3, written before state.json commits it."""
    stem, suffix = name.rsplit(".", 1)
    return f"{stem}.e{epochs_done}.{suffix}"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader (or a kill) sees the old content or the new, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def prepare_fresh(run: Path, force: bool) -> None:
    """A fresh run needs a missing or empty folder; ``force`` deletes a previous run's files first (only the files a
    run writes: anything else in the folder stays)."""
    if run.exists() and not run.is_dir():
        raise RunFolderError(f"--out {run} is a file, not a run folder")
    if not run.is_dir() or not any(run.iterdir()):
        return
    if not force:
        held = sorted(p.name for p in run.iterdir())
        if not any(name in RUN_FILES or _PENDING.match(name) for name in held):
            raise RunFolderError(f"--out {run} is not empty ({', '.join(held[:5])}{', ...' if len(held) > 5 else ''}):"
                                 " give a new or empty folder, or --force to train into it (only a run's own files "
                                 "are deleted)")
        raise RunFolderError(f"--out {run} already holds a run: continue it with --resume, or replace it with --force")
    for path in run.iterdir():
        if path.name in RUN_FILES or _PENDING.match(path.name) or path.name.endswith(".tmp"):
            path.unlink()


def read_history(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def resume_state(run: Path) -> dict:
    """The committed state of ``run`` ({"epoch", "monitor", "best", "best_epoch"}), with the folder made consistent
    with it: committed pending checkpoints renamed into place, uncommitted ones deleted, history.csv trimmed to the
    committed epochs. RunFolderError when there is nothing consistent to resume."""
    if not run.is_dir():
        raise RunFolderError(f"--resume: {run} does not exist, so there is no run to continue")
    state_path = run / "state.json"
    if not state_path.is_file():
        raise RunFolderError(f"--resume: {state_path} is missing, so the epoch to continue from is unknown; "
                             "start over with --force")
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        epoch = int(state["epoch"])
    except (ValueError, KeyError, TypeError) as e:
        raise RunFolderError(f"--resume: {state_path} is unreadable ({e}); start over with --force") from None
    pending = state.get("pending") or {}
    for path in run.iterdir():
        if _PENDING.match(path.name):
            final = next((name for name, p in pending.items() if p == path.name), None)
            if final is not None:
                os.replace(path, run / final)  # committed by state.json before the kill
            else:
                path.unlink()  # written for an epoch that state.json never committed
    if not (run / "last.keras").is_file():
        raise RunFolderError(f"--resume: {run / 'last.keras'} is missing; start over with --force")
    rows = read_history(run / "history.csv")
    if len(rows) < epoch:
        raise RunFolderError(f"--resume: {run / 'history.csv'} has {len(rows)} epochs but state.json says {epoch}; "
                             "start over with --force")
    if len(rows) > epoch:  # the row of an epoch that was killed before its checkpoint was committed
        with open(run / "history.csv", newline="") as f:
            lines = f.read().splitlines(keepends=True)  # CSVLogger's own format, kept byte for byte
        write_atomic(run / "history.csv", "".join(lines[:epoch + 1]))
    return {**state, "epoch": epoch, "history": rows[:epoch]}


def peek_state(run: Path) -> dict:
    """The committed epoch count of ``run``, read without touching the folder (a cluster worker other than the
    chief, which owns the folder)."""
    try:
        return {"epoch": int(json.loads((run / "state.json").read_text(encoding="utf-8"))["epoch"])}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RunFolderError(f"--resume: cannot read {run / 'state.json'} ({e}); is --out on a folder the chief "
                             "shares?") from None


def file_in_the_way(path: Path) -> Path | None:
    """The file standing at ``path``, or at the nearest of its parents that exists, where a folder must be for
    ``path`` to be a folder or to be made in one (output folders: ``evaluate --report``, ``data preview -o``'s
    folder); None when nothing is in the way."""
    for p in (path, *path.parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


def require_files(run: Path, names: tuple[str, ...]) -> None:
    """FileNotFoundError naming the first of ``names`` missing from the run (or artifacts) folder ``run``."""
    for name in names:
        if not (run / name).is_file():
            raise FileNotFoundError(f"{run / name} is missing: is {run} a training run or artifacts folder?")


def check_export_target(run: Path, out: Path, names: tuple[str, ...], force: bool) -> None:
    """Refuse to export into the exported folder itself (ValueError), or over files already in ``out`` unless
    ``force`` (FileExistsError)."""
    if out.exists() and out.resolve() == run.resolve():
        raise ValueError(f"{out} is the folder being exported: give another folder")
    existing = [name for name in names if (out / name).exists()]
    if existing and not force:
        raise FileExistsError(f"{out} already holds {', '.join(existing)}: replace them with --force")


def best_so_far(state: dict, monitor: str) -> float:
    """The score best.keras was saved with: from state.json, else (a state.json of an older version, or another
    monitor) the best ``monitor`` value in the committed history; -inf when none."""
    if state.get("monitor") == monitor and state.get("best") is not None:
        return float(state["best"])
    values = [float(r[monitor]) for r in state.get("history", []) if r.get(monitor) not in (None, "")]
    return max(values, default=float("-inf"))
