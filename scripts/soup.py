"""A greedy model soup: average the weights of fine-tunes that share a starting point, keeping an ingredient only
where the average scores at least as well on real dev handwriting.

Usage: python scripts/soup.py OUT CONFIG.json --dev A.npz [--dev B.npz …] [--uniform] INGREDIENT [INGREDIENT …]
  OUT: a new run folder (refused if it exists)
  CONFIG.json: the training config (bundled_config_phase*.json: {"synth": {…}}) whose synthesiser re-estimates batch
    norm and draws the templates
  INGREDIENT: a run or bundle folder, or a .keras file; a calibration folded into a bundle is taken out again

Ingredients are ranked by their own dev_score (training's checkpoint selector: 0.7 × HSK1 accuracy + 0.3 × Unknown
rejection) and added in that order (Wortsman et al. 2022, "Model soups"); ``--uniform`` keeps every one. Batch norm is re-estimated on fresh
synthesised batches after every averaging. OUT is a run folder like `hanzicheck train`'s, so finish_bundled.sh
(RUN=OUT) calibrates, evaluates and exports it; OUT/soup.json says which ingredients went in and every score.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hanzicheck.data.dataset import BatchStream, synth_arrays
from hanzicheck.data.synth.config import SynthConfig
from hanzicheck.engine.callbacks import DevEval, recalibrate_batch_norm
from hanzicheck.engine.export import compute_templates, write_artifacts
from hanzicheck.engine.train import TrainConfig, init_model, load_labelled
from hanzicheck.models import embedding_model

SEED = 50_000  # batch-norm batches and templates: a seed no training run uses


def averaged(models: list) -> list[np.ndarray]:
    """The element-wise mean of the models' weights (batch-norm statistics included; re-estimated afterwards)."""
    return [np.mean(ws, axis=0) for ws in zip(*(m.get_weights() for m in models), strict=True)]


def cook(paths: list[str], score, uniform: bool = False):
    """The soup of the models at ``paths`` and its record: ranked by ``score(model)["dev_score"]`` alone, each next
    one kept where the average of those kept so far and it scores at least as well (every one with ``uniform``)."""
    models = [init_model(path) for path in paths]
    alone = [score(m) for m in models]
    for path, s in zip(paths, alone, strict=True):
        print(f"{path}: dev_score {s['dev_score']:.4f}", flush=True)
    order = sorted(range(len(models)), key=lambda i: -alone[i]["dev_score"])
    soup, kept, best, steps = models[order[0]], [order[0]], alone[order[0]], []
    for i in order[1:]:
        trial = init_model(paths[order[0]])  # a fresh model of the same architecture
        trial.set_weights(averaged([models[k] for k in kept + [i]]))
        s = score(trial)
        taken = uniform or s["dev_score"] >= best["dev_score"]
        steps.append({"ingredient": paths[i], "taken": taken, **s})
        print(f"+ {paths[i]}: dev_score {s['dev_score']:.4f} ({'kept' if taken else 'left out'})", flush=True)
        if taken:
            soup, kept, best = trial, kept + [i], s
    return soup, {"ingredients": [paths[k] for k in kept], "alone": dict(zip(paths, alone, strict=True)),
                  "steps": steps, "dev": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("out", type=Path)
    parser.add_argument("config", type=Path)
    parser.add_argument("ingredients", nargs="+")
    parser.add_argument("--dev", action="append", required=True)
    parser.add_argument("--uniform", action="store_true", help="average every ingredient (no greedy choice)")
    args = parser.parse_args()
    if args.out.exists():
        raise SystemExit(f"{args.out}: exists; choose a new folder")
    config = TrainConfig.from_dict({**json.loads(args.config.read_text()), "dev": args.dev})
    synth_config = SynthConfig.from_overrides(config.synth)
    dev = DevEval.cap_unknown(load_labelled(config.dev), 3000)
    stream = BatchStream(config.batch_size, SEED, config.unknown_fraction, synth_config, workers=0)
    batches = [x for x, _ in itertools.islice(iter(stream), config.bn_recalibration)]

    def score(model) -> dict[str, float]:
        recalibrate_batch_norm(model, batches)
        return DevEval.evaluate(model, dev)

    soup, record = cook(args.ingredients, score, args.uniform)
    tpl = synth_arrays(config.template_per_class, seed=SEED + 1, synth_config=synth_config)
    embed = embedding_model(soup)
    templates = compute_templates(lambda b: embed.predict(b, verbose=0), tpl.x, tpl.y)
    write_artifacts(soup, args.out, templates, {"training": {"config": asdict(config), "run": str(args.out)},
                                                "soup": record})
    (args.out / "config.json").write_text(json.dumps(asdict(config), ensure_ascii=False, indent=2))
    (args.out / "soup.json").write_text(json.dumps(record, ensure_ascii=False, indent=2))
    print(f"soup of {len(record['ingredients'])}: dev_score {record['dev']['dev_score']:.4f} → {args.out}")


if __name__ == "__main__":
    main()
