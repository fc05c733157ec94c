"""Stage 1 — prepare: make a small deterministic regression data set and split it.

python prepare.py                      # writes results/prepare/{train,test}.csv + run.lock
python prepare.py n_samples=500 seed=1
"""

import csv
import random
from pathlib import Path

from naga import clicfg, runlock


class Config:
    n_samples = 200
    seed = 0
    noise = 0.1
    test_fraction = 0.25
    raw_path = "data/raw.csv"
    save_dir = "results/prepare"


def make_raw(path: Path, n_samples: int, seed: int, noise: float) -> None:
    """The 'raw data' of this toy pipeline: y = 3x + 0.5 + noise, reproducible from the seed."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "y"])
        for _ in range(n_samples):
            x = rng.uniform(-1, 1)
            writer.writerow([f"{x:.6f}", f"{3 * x + 0.5 + rng.gauss(0, noise):.6f}"])


@clicfg(config_class=Config)
def main(cfg: Config):
    """Create (if needed) and split the raw data into train and test sets."""
    raw = Path(cfg.raw_path)
    if not raw.exists():
        make_raw(raw, cfg.n_samples, cfg.seed, cfg.noise)
    rows = list(csv.DictReader(raw.open()))
    random.Random(cfg.seed).shuffle(rows)
    n_test = int(len(rows) * cfg.test_fraction)
    out = Path(cfg.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("test.csv", rows[:n_test]), ("train.csv", rows[n_test:])):
        with (out / name).open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["x", "y"])
            writer.writeheader()
            writer.writerows(part)
    print(f"prepare: {len(rows) - n_test} train / {n_test} test rows in {out}")
    runlock(config=cfg, data={"raw": cfg.raw_path})


if __name__ == "__main__":
    main()
