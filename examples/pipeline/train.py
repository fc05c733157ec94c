"""Stage 2 — train: fit y = w·x + b by gradient descent on the prepared data.

python train.py                          # one run into results/train
python train.py -m lr=0.01,0.1,0.3       # a sweep: results/train/lr=0.01, ...
python train.py -m lr=0.03,0.1 seed=0,1  # ... with two random starts each

The returned mapping is recorded as the run's metrics (metrics.train_mse in run.lock).
"""

import csv
import json
import random
from pathlib import Path

from naga import clicfg, runlock


class Config:
    data_dir = "results/prepare"
    lr = 0.1
    epochs = 100
    seed = 0
    save_dir = "results/train"


def load(path: Path) -> list[tuple[float, float]]:
    return [(float(r["x"]), float(r["y"])) for r in csv.DictReader(path.open())]


@clicfg(config_class=Config)
def main(cfg: Config):
    """Fit a line to the training data and save the model and its training loss."""
    train_csv = Path(cfg.data_dir) / "train.csv"
    points = load(train_csv)
    rng = random.Random(cfg.seed)
    w, b = rng.uniform(-1, 1), rng.uniform(-1, 1)  # a random start: seeds differ
    for _ in range(cfg.epochs):
        grad_w = sum(2 * (w * x + b - y) * x for x, y in points) / len(points)
        grad_b = sum(2 * (w * x + b - y) for x, y in points) / len(points)
        w, b = w - cfg.lr * grad_w, b - cfg.lr * grad_b
    loss = sum((w * x + b - y) ** 2 for x, y in points) / len(points)
    out = Path(cfg.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.json").write_text(json.dumps({"w": round(w, 10), "b": round(b, 10)}) + "\n")
    (out / "metrics.json").write_text(json.dumps({"train_mse": round(loss, 10)}) + "\n")
    print(f"train: lr={cfg.lr} -> w={w:.3f} b={b:.3f} mse={loss:.4f}")
    runlock(config=cfg, data={"train": train_csv}, prevs=[cfg.data_dir])
    return {"train_mse": loss}


if __name__ == "__main__":
    main()
