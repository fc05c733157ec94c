"""A user's training script for the travel tests (tests/travel): runs made on one machine
are pushed or exported, and re-created and verified in another clone.

It reads a tracked data file, writes a deterministic "model" into save_dir and records the
data file's hash with runlock(); ``OFFSET`` is what the tests edit without committing.
"""

from pathlib import Path

from naga import clicfg, runlock

OFFSET = 0


class Config:
    lr = 0.1
    data = "data/input.csv"
    extra_repo = ""  # another repository the run records, e.g. ../lib
    save_dir = "results/basic"


@clicfg(config_class=Config)
def main(cfg: Config) -> None:
    values = [float(x) for x in Path(cfg.data).read_text().split()]
    out = Path(cfg.save_dir)
    (out / "model.txt").write_text(f"{sum(values) * cfg.lr + OFFSET:.6f}\n")
    runlock(config=cfg, repos=[".", *([cfg.extra_repo] if cfg.extra_repo else [])], data=[cfg.data])


if __name__ == "__main__":
    main()
