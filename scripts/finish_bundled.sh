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
.venv/bin/python scripts/split_dev.py "$REAL" "$RUN/dev_split"
# Thresholds: synthesised pairs (every negative kind) + real pairs of writers 1–25 only. Temperature and Unknown
# offset: those writers and half of the UNIPEN Latin writers.
.venv/bin/hanzicheck calibrate --model "$RUN" --data "$RUN/dev_split/calib_writers01-25.npz" \
  --class-data "$RUN/dev_split/latin_calib_writers.npz" --json > "$RUN/calibration.json"
# Evaluation on writers the calibration never saw (Chinese MNIST 26–50 and the other Latin half; training's
# checkpoint selection saw all the Latin writers), and synthesised negatives.
.venv/bin/hanzicheck evaluate --model "$RUN" --data "$RUN/dev_split/eval_writers26-50.npz" \
  --data "$RUN/dev_split/latin_eval_writers.npz" --synth 4 --diagnosis 1 --seed 1 --report "$REPORT" --json \
  > "$REPORT.summary.json"
.venv/bin/hanzicheck export "$RUN" --bundle "$BUNDLE" --force
.venv/bin/python scripts/model_card.py "$RUN" "$REPORT" > "$BUNDLE/MODEL_CARD.md"
mkdir -p "$DOCS"
cp "$REPORT"/*.png "$REPORT"/report.md "$DOCS"/
if [ -f "$RUN/curves.png" ]; then cp "$RUN/curves.png" "$DOCS"/training-curves.png; fi  # a bundle as RUN has none
echo "bundle written to $BUNDLE; card: $BUNDLE/MODEL_CARD.md; plots: $DOCS/"
