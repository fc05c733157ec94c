"""A user's tuning script for the search tests (tests/sweepers): a toy loss to minimise.

``loss`` is smallest at ``lr=0.01``, ``layers=1``, ``act=relu``. Each trial sleeps: trials
with an even number sleep ``long`` seconds, odd ones ``short`` (alternating durations,
for the asynchrony test and bench/bench_optuna.py). ``layers == no_loss_layers`` returns
no ``loss`` (the objective is missing); ``layers == fail_layers`` raises.
"""

import math
import time
from pathlib import Path

from naga import clicfg


class Config:
    lr = 0.001
    layers = 2
    act = "relu"
    short = 0.0
    long = 0.0
    no_loss_layers = -1
    fail_layers = -1
    save_dir = "results/study"


def trial_number(save_dir: str) -> int:
    """The trial's number, from its folder (``trial_0007``); 0 outside a study."""
    name = Path(save_dir).name
    return int(name.split("_", 1)[1]) if name.startswith("trial_") else 0


@clicfg(config_class=Config)
def main(cfg: Config) -> dict:
    number = trial_number(cfg.save_dir)
    time.sleep(cfg.long if number % 2 == 0 else cfg.short)
    if cfg.layers == cfg.fail_layers:
        raise RuntimeError(f"layers={cfg.layers} diverged")
    loss = (math.log10(cfg.lr) + 2) ** 2 + 0.1 * cfg.layers + (0.0 if cfg.act == "relu" else 0.5)
    if cfg.layers == cfg.no_loss_layers:
        return {"accuracy": 1.0 / (1.0 + loss)}
    return {"loss": loss, "accuracy": 1.0 / (1.0 + loss)}


if __name__ == "__main__":
    main()
