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
    """Write the param; with sleep > 0, say 'started' (with the pid) and sleep."""
    out = Path(cfg.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "out.txt").write_text(f"param={cfg.param}\n")
    if cfg.sleep:
        (out / "started").write_text(str(os.getpid()))
        time.sleep(cfg.sleep)
    return cfg.param


if __name__ == "__main__":
    main()
