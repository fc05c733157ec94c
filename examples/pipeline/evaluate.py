"""Stage 3 — evaluate: score every trained model on the test set and pick the best.

python evaluate.py                       # reads results/train/*/model.json
"""

import csv
import json
from pathlib import Path

from naga import clicfg, runlock


class Config:
    data_dir = "results/prepare"
    train_dir = "results/train"
    save_dir = "results/evaluate"


@clicfg(config_class=Config)
def main(cfg: Config):
    """Evaluate each model of the training sweep on the held-out data."""
    test_csv = Path(cfg.data_dir) / "test.csv"
    points = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(test_csv.open())]
    runs = sorted(p.parent for p in Path(cfg.train_dir).glob("**/model.json"))
    if not runs:
        raise SystemExit(f"evaluate: no model.json under {cfg.train_dir}: run train.py first")
    scores = {}
    for run in runs:
        model = json.loads((run / "model.json").read_text())
        mse = sum((model["w"] * x + model["b"] - y) ** 2 for x, y in points) / len(points)
        scores[run.name] = round(mse, 10)
    best = min(scores, key=scores.get)
    out = Path(cfg.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps({"test_mse": scores, "best": best}, indent=2) + "\n"
    )
    print(f"evaluate: best model {best} (test mse {scores[best]:.4f}) of {len(runs)}")
    upstream = {"prepare": cfg.data_dir, **{run.name: run for run in runs}}
    runlock(config=cfg, data={"test": test_csv}, prevs=upstream)


if __name__ == "__main__":
    main()
