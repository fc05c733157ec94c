"""A user's training script for the sweep-folder tests (tests/launch/test_sweep_history.py).

``python train.py -m lr=0.1,0.2 sleep=6 save_dir=results/busy ...``: each job sleeps
``sleep`` seconds (in short steps, so signals are handled at once) and returns its score.
"""

import time

from naga import clicfg


class Config:
    lr = 0.1
    sleep = 0.0
    save_dir = "results/train"


@clicfg(config_class=Config)
def main(cfg: Config) -> dict:
    deadline = time.monotonic() + cfg.sleep
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return {"score": cfg.lr}


if __name__ == "__main__":
    main()
