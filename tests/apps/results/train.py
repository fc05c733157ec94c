"""A sweepable 'training' whose metrics are known functions of lr and seed (tests/results).

The function returns a mapping (recorded as metrics.loss) and records more metrics with
runlock(metrics=...) (nested: val.acc) and from a JSON file (steps).
"""

import json
from pathlib import Path

from naga import clicfg, runlock


class Config:
    lr = 0.1
    seed = 0
    optimizer = "sgd"
    layers = [8, 4]
    model = {"width": 8, "dropout": 0.5}
    save_dir = "results/train"


def loss_of(lr: float, seed: int) -> float:
    """The 'loss' of a run: what the tests recompute."""
    return (lr - 0.1) ** 2 + seed / 100


@clicfg(config_class=Config)
def main(cfg: Config):
    out = Path(cfg.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    loss = loss_of(cfg.lr, cfg.seed)
    (out / "steps.json").write_text(json.dumps({"steps": 100 + cfg.seed}))
    runlock(config=cfg, metrics={"val": {"acc": 1 - loss}})
    runlock(config=cfg, metrics=out / "steps.json")
    return {"loss": loss}


if __name__ == "__main__":
    main()
