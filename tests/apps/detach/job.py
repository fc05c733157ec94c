"""A user's sweep script for the detach / status / resume / requeue tests (tests/launch).

Every job writes ``started`` when it begins and ``out.txt`` (its param and
``helper.VALUE``, which tells which code it imported) when it ends. The job whose param is
``sleep_param`` (every job, with ``sleep_all``) first sleeps ``sleep`` seconds, in short
steps so that signals are handled at once; ``fail_param`` raises. A file ``fixed`` in the
working directory (created by a test before ``naga resume``) turns both off.
"""

import os
import time
from pathlib import Path

import helper

from naga import clicfg


class Config:
    param = 1
    sleep = 0.0
    sleep_param = -1
    sleep_all = False
    fail_param = -1
    save_dir = "results/sweep"


@clicfg(config_class=Config)
def main(cfg: Config) -> None:
    out = Path(cfg.save_dir)
    (out / "started").write_text(f"{os.getpid()} {os.environ.get('SLURM_JOB_ID')}")
    fixed = Path("fixed").exists()
    if (cfg.sleep_all or cfg.param == cfg.sleep_param) and not fixed:
        deadline = time.monotonic() + cfg.sleep
        while time.monotonic() < deadline:
            time.sleep(0.05)
    (out / "out.txt").write_text(f"{cfg.param} {helper.VALUE}")
    if cfg.param == cfg.fail_param and not fixed:
        raise ZeroDivisionError(f"param {cfg.param} divides by zero")


if __name__ == "__main__":
    main()
