#!/usr/bin/env bash
# After scripts/train_bundled.sh: calibrate, evaluate, write the model card and copy the bundle into the package.
# Every figure in src/hanzicheck/assets/model/MODEL_CARD.md comes from this script's outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${REAL:-../shared/data/real}
RUN=${RUN:-runs/bundled}
REPORT=${REPORT:-reports/bundled}
mkdir -p "$(dirname "$REPORT")"
BUNDLE=${BUNDLE:-src/hanzicheck/assets/model}  # set BUNDLE and DOCS elsewhere to judge a candidate first
DOCS=${DOCS:-docs/bundled-model}
ACCEPT=${ACCEPT:-0.96}  # verify operating point: this share of every calibration source's correct pairs accepted
# (0.96, not the CLI's 0.95: the held-out font's eval draws came out at 0.948 when its dev draws were held to 0.95)
CURSIVE=${CURSIVE:-$RUN/cursive}  # the cursive dev set (all 178 characters): seed 0 calibrates, seed 1 evaluates
.venv/bin/python scripts/split_dev.py "$REAL" "$RUN/dev_split"
[ -f "$CURSIVE/cursive_dev_font.npz" ] || .venv/bin/python scripts/make_cursive_dev.py "$CURSIVE" 8 0 cursive_dev
[ -f "$CURSIVE/cursive_eval_font.npz" ] || .venv/bin/python scripts/make_cursive_dev.py "$CURSIVE" 8 1 cursive_eval
# The verify rule (weights, per-character thresholds, stroke-drop templates): correct accepted ≥ 95 % on every
# source (writers 1–25, both cursive dev sources, synthesised pairs of every negative kind written messier).
# Temperature and Unknown offset: those labelled sources and half of the UNIPEN Latin writers.
.venv/bin/hanzicheck calibrate --model "$RUN" --data "$RUN/dev_split/calib_writers01-25.npz" \
  --data "$CURSIVE/cursive_dev_cursive.npz" --data "$CURSIVE/cursive_dev_font.npz" --accept "$ACCEPT" \
  --synth 12 --synth-config scripts/stress_synth.json \
  --class-data "$RUN/dev_split/latin_calib_writers.npz" --json > "$RUN/calibration.json"
# Evaluation on writers and draws the calibration never saw (Chinese MNIST 26–50, the other Latin half, the cursive
# eval draws; training's checkpoint selection saw all the Latin writers), and synthesised negatives.
.venv/bin/hanzicheck evaluate --model "$RUN" --data "$RUN/dev_split/eval_writers26-50.npz" \
  --data "$RUN/dev_split/latin_eval_writers.npz" --data "$CURSIVE/cursive_eval_cursive.npz" \
  --data "$CURSIVE/cursive_eval_font.npz" --synth 4 --diagnosis 1 --seed 1 --report "$REPORT" --force --json \
  > "$REPORT.summary.json"
# verify's four figures per source (correct accepted; wrong_char / lookalike / missing_stroke rejected) with
# messier synthesised negatives, at the shipped thresholds: $REPORT-verify/report.md. pen_drop_pairs.csv is built
# like the held-out set: canvas-style drawings, each a correct, wrong_char and lookalike pair, and the same drawing
# without one long pen-down run as the missing_stroke impostor.
[ -f "$CURSIVE/pen_drop_pairs.csv" ] || .venv/bin/python scripts/make_verify_pairs.py "$CURSIVE/pen_drop_pairs.csv" \
  4 1 scripts/stress_synth.json
.venv/bin/hanzicheck evaluate --model "$RUN" --data "$RUN/dev_split/eval_writers26-50.npz" \
  --data "$CURSIVE/cursive_eval_cursive.npz" --data "$CURSIVE/cursive_eval_font.npz" \
  --data "$CURSIVE/pen_drop_pairs.csv" --synth 4 --seed 1 \
  --synth-config scripts/stress_synth.json --report "$REPORT-verify" --force --json > "$REPORT-verify.summary.json"
# Per source and per character with 95 % bootstrap intervals over writers (the model card's 178-character section)
.venv/bin/python scripts/writer_intervals.py "$RUN" "$REPORT/intervals.json" "$RUN/dev_split/eval_writers26-50.npz" \
  "$RUN/dev_split/latin_eval_writers.npz" "$CURSIVE/cursive_eval_font.npz" "$CURSIVE/cursive_eval_cursive.npz" \
  | tee "$REPORT/intervals.md"
.venv/bin/hanzicheck export "$RUN" --bundle "$BUNDLE" --force
.venv/bin/python scripts/model_card.py "$RUN" "$REPORT" > "$BUNDLE/MODEL_CARD.md"
mkdir -p "$DOCS"
cp "$REPORT"/*.png "$REPORT"/report.md "$DOCS"/
cp "$REPORT-verify/roc_by_source.png" "$DOCS"/verify-roc-by-source.png
if [ -f "$RUN/curves.png" ]; then cp "$RUN/curves.png" "$DOCS"/training-curves.png; fi  # a bundle as RUN has none
echo "bundle written to $BUNDLE; card: $BUNDLE/MODEL_CARD.md; plots: $DOCS/"
