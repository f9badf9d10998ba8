"""The evaluation report: metrics.json, report.md and PNG plots (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .run_folder import file_in_the_way

# Every file a report writes into its folder (``write_report``); a folder holding any of them holds a report.
REPORT_FILES = ("metrics.json", "report.md", "roc.png", "roc_by_source.png", "similarities.png", "reliability.png",
                "per_char.png")
# verify's four figures per source (correct pairs accepted, each impostor kind rejected): report, CLI table, card
VERIFY_FIGURES = ("correct_accepted", "wrong_char_rejected", "lookalike_rejected", "missing_stroke_rejected")
# ... and the head of their markdown table
VERIFY_TABLE_HEAD = ("| source | " + " | ".join(" ".join(f.rsplit("_", 1)) for f in VERIFY_FIGURES) + " |",
                     "| --- |" + " ---: |" * len(VERIFY_FIGURES))


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f} %"


def _f(x: float | None) -> str:
    return "—" if x is None else f"{x:.4f}"


@dataclass(frozen=True)
class PairScores:
    """The verify rule's score of every scored pair and the pair's kind (``genuine`` or an impostor kind): what
    the verify-score histogram (similarities.png) is drawn from; metrics.json keeps only the ROC summaries."""

    score: np.ndarray
    kinds: list[str]


class ReportFolderError(ValueError):
    """The report folder is a file, or already holds a report that was not to be replaced."""


def previous_report(out: Path) -> list[str]:
    """The report files already in ``out`` (``REPORT_FILES``; none for a missing folder); ReportFolderError when
    ``out``, or the folder it would be made in, is a file."""
    blocker = file_in_the_way(out)
    if blocker is not None:
        raise ReportFolderError(f"--report {out}: " + ("a file, not a folder" if blocker == out else
                                                       f"{blocker} is a file, not a folder"))
    return [name for name in REPORT_FILES if (out / name).exists()]


def write_report(metrics: dict[str, Any], out: Path, pair_scores: PairScores | None = None) -> None:
    """metrics.json, report.md and the plots into ``out``; ``pair_scores``: the histogram of verify scores. A
    previous report's files that this one does not write (a plot it has no data for) are deleted, so the folder
    holds one report; other files stay."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    plots = _plots(metrics, pair_scores, out)
    (out / "report.md").write_text(_markdown(metrics, plots), encoding="utf-8")
    for name in set(REPORT_FILES) - {"metrics.json", "report.md", *plots}:
        (out / name).unlink(missing_ok=True)


def _plots(metrics: dict[str, Any], pair_scores: PairScores | None, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    ver = metrics.get("verification")
    if ver and ver["kinds"]:
        fig, ax = plt.subplots(figsize=(5, 5))
        for kind, r in ver["kinds"].items():
            if "curve" in r:
                ax.plot(r["curve"]["far"], r["curve"]["tar"], label=f"{kind} (AUC {r['auc']:.3f})")
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set(xlabel="false accept rate", ylabel="true accept rate", title="Verify score ROC per negative kind")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "roc.png", dpi=110)
        plt.close(fig)
        written.append("roc.png")
    if ver and len(ver.get("per_source", {})) > 1:
        written.append(_roc_by_source(plt, ver["per_source"], out / "roc_by_source.png"))
    if pair_scores is not None:
        s = np.asarray(pair_scores.score)
        kinds = np.array(pair_scores.kinds)
        finite = s[np.isfinite(s)]
        span = (min(-0.2, float(np.quantile(finite, 0.01))), max(1.0, float(finite.max()))) if len(finite) else (0, 1)
        fig, ax = plt.subplots(figsize=(6, 4))
        for kind in dict.fromkeys(["genuine", *sorted(set(pair_scores.kinds) - {"genuine"})]):
            v = s[(kinds == kind) & np.isfinite(s)]
            if len(v):
                ax.hist(v, bins=40, range=span, histtype="step", label=f"{kind} ({len(v)})")
        ax.set(xlabel="verify score (similarity + weighted log-probability)", ylabel="pairs", yscale="log",
               title="Verify scores")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "similarities.png", dpi=110)
        plt.close(fig)
        written.append("similarities.png")
    cls = metrics.get("classification", {}).get("all")
    if cls and cls["reliability"]:
        rel = cls["reliability"]
        fig, ax = plt.subplots(figsize=(5, 5))
        conf = [r["confidence"] for r in rel]
        acc = [r["accuracy"] for r in rel]
        ax.plot([0, 1], [0, 1], ":", color="grey", label="perfect calibration")
        ax.plot(conf, acc, "o-", label=f"model (ECE {cls['ece']:.3f})")
        for r in rel:
            ax.annotate(str(r["n"]), (r["confidence"], r["accuracy"]), fontsize=7, xytext=(3, -9),
                        textcoords="offset points")
        ax.set(xlabel="confidence (top probability)", ylabel="accuracy", title="Reliability diagram",
               xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "reliability.png", dpi=110)
        plt.close(fig)
        written.append("reliability.png")
    if cls and cls["per_char"]:
        items = sorted(cls["per_char"].items(), key=lambda kv: kv[1]["accuracy"])
        fig, ax = plt.subplots(figsize=(max(6, 0.09 * len(items)), 3.5))
        ax.bar(range(len(items)), [v["accuracy"] for _, v in items], color="tab:blue")
        ax.set(ylabel="accuracy", ylim=(0, 1), title="Accuracy per character (worst first)")
        ax.set_xticks(range(len(items)))
        # code points: matplotlib's default font has no CJK glyphs (report.md has the characters)
        ax.set_xticklabels([f"U+{ord(c):04X}" for c, _ in items], rotation=90, fontsize=5 if len(items) > 40 else 7)
        fig.tight_layout()
        fig.savefig(out / "per_char.png", dpi=110)
        plt.close(fig)
        written.append("per_char.png")
    return written


def _per_char_table(cls: dict[str, Any]) -> list[str]:
    """Every character, every source: top-1 (the answer a user sees) and the share answered Unknown."""
    names = [n for n in cls if n != "all"] or ["all"]
    chars = list(dict.fromkeys(ch for n in names for ch in cls[n]["per_char"]))
    if not chars:
        return []
    head = " | ".join(f"{n}: top-1 | Unknown" for n in names)
    lines = ["", "### Per character and source", "", f"| char | {head} |",
             "| --- |" + " ---: | ---: |" * len(names)]
    for ch in chars:
        cells = []
        for n in names:
            v = cls[n]["per_char"].get(ch)
            cells += [_pct(v["accuracy"]), _pct(v.get("unknown"))] if v else ["", ""]
        lines.append(f"| {ch} | " + " | ".join(cells) + " |")
    return lines


def _roc_by_source(plt, per_source: dict[str, Any], path: Path) -> str:
    """One ROC panel per source, a curve per impostor kind, the model's operating point marked."""
    fig, axes = plt.subplots(1, len(per_source), figsize=(4 * len(per_source), 4), squeeze=False)
    for ax, (name, r) in zip(axes[0], per_source.items(), strict=True):
        for kind, k in r["kinds"].items():
            if "curve" in k and kind != "all":
                line, = ax.plot(k["curve"]["far"], k["curve"]["tar"], label=f"{kind} (AUC {k['auc']:.3f})")
                if r.get("correct_accepted") is not None:
                    ax.plot([k["far_at_model_threshold"]], [r["correct_accepted"]], "o", color=line.get_color())
        ax.set(xlabel="impostors accepted", ylabel="correct accepted", title=name[:40])
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def _markdown(m: dict[str, Any], plots: list[str]) -> str:
    lines = ["# hanzicheck evaluation", "", f"Model: `{m['model']}` "
             f"({'calibrated per-character thresholds' if m.get('calibrated') else 'uncalibrated: one threshold'})",
             "", "## Sources", "", "| source | kind | count | unreadable |", "| --- | --- | ---: | ---: |"]
    for s in m["sources"]:
        lines.append(f"| `{s['source']}` | {s['kind']} | {s.get('samples', s.get('pairs', 0)):,} | "
                     f"{s.get('unreadable', 0)} |")
    cls = m.get("classification")
    if cls:
        lines += ["", "## Classification", "",
                  "Labels outside HSK1 should come out `Unknown`. *accuracy* is on HSK1 samples (an `Unknown` answer "
                  "counts as wrong); *rejected* = HSK1 samples answered `Unknown`; *Unknown rejection* = non-HSK1 "
                  "samples answered `Unknown`.", "",
                  "| source | samples | HSK1 | accuracy | top-5 | rejected | accuracy if accepted | non-HSK1 | "
                  "Unknown rejection | ECE |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, c in cls.items():
            lines.append(f"| {name} | {c['samples']:,} | {c['known_samples']:,} | {_pct(c['accuracy'])} | "
                         f"{_pct(c['top_k_accuracy'])} | {_pct(c['known_rejected'])} | "
                         f"{_pct(c['accuracy_when_accepted'])} | {c['unknown_samples']:,} | "
                         f"{_pct(c['unknown_rejection'])} | {c['ece']:.3f} |")
        c = cls["all"]
        if c["top_confusions"]:
            lines += ["", "### Top confusions", "", "| true | predicted | count |", "| --- | --- | ---: |"]
            lines += [f"| {e['true']} | {e['predicted']} | {e['count']} |" for e in c["top_confusions"]]
        if c["per_char"]:
            worst = sorted(c["per_char"].items(), key=lambda kv: kv[1]["accuracy"])[:15]
            lines += ["", "### Worst characters", "", "| char | samples | accuracy |", "| --- | ---: | ---: |"]
            lines += [f"| {ch} | {v['n']} | {_pct(v['accuracy'])} |" for ch, v in worst]
        lines += _per_char_table(cls)
    ver = m.get("verification")
    if ver:
        lines += ["", "## Verification", "",
                  f"{ver['genuine_pairs']:,} genuine pairs; false rejects at the model's thresholds: "
                  f"{_pct(ver['frr_at_model_threshold'])}.", "",
                  "| impostor kind | impostors | AUC | EER | FAR at 5 % FRR | FAR at the model's thresholds |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for kind, r in ver["kinds"].items():
            lines.append(f"| {kind} | {r['impostors']:,} | {_f(r.get('auc'))} | {_pct(r.get('eer'))} | "
                         f"{_pct(r.get('far_at_5pct_frr'))} | {_pct(r.get('far_at_model_threshold'))} |")
        lines += ["", "At the model's thresholds (the verify rule, inference/verdict.py), per source:", "",
                  *VERIFY_TABLE_HEAD]
        for name, r in ver.get("per_source", {}).items():
            lines.append(f"| {name} | " + " | ".join(_pct(r.get(k)) for k in VERIFY_FIGURES) + " |")
    diag = m.get("diagnosis")
    if diag:
        lines += ["", "## Stroke diagnosis", "",
                  f"On {diag['dropped_samples']:,} synthesised samples with one stroke left out and "
                  f"{diag['complete_samples']:,} complete ones ({diag['chars']} characters): the left-out stroke "
                  f"named first {_pct(diag['top1'])}, any stroke named {_pct(diag['detected'])}, false alarms on "
                  f"complete characters {_pct(diag['false_alarm'])}, {diag['ms_per_diagnosis']:.0f} ms each."]
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p[:-4]}]({p})" for p in plots]
    return "\n".join(lines) + "\n"
