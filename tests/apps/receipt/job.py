"""A user's @clicfg script, run by the receipt conformance suite on every path."""

import os
import time
from pathlib import Path

from naga import clicfg


class Config:
    param = 1
    sleep = 0.0
    save_dir = "results/job"


@clicfg(config_class=Config)
def main(cfg: Config) -> int:
    """Write the param; with sleep > 0, say 'started' (with the pid) and sleep.

    The sleep ends early once 'started' is gone: a test done with the running job removes
    it rather than wait out the whole sleep.
    """
    out = Path(cfg.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "out.txt").write_text(f"param={cfg.param}\n")
    if cfg.sleep:
        started = out / "started"
        started.write_text(str(os.getpid()))
        deadline = time.monotonic() + cfg.sleep
        while started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return cfg.param


if __name__ == "__main__":
    main()
