"""The toy @clicfg job of the sweep tests (tests/launch): param 2 fails, param 5 exits 3."""

import sys

from naga import clicfg


class Config:
    param = 1
    name = "a"
    save_dir = "results/sweep"
    tasks = [{"param": 7}, {"param": 8, "name": "b"}]


@clicfg(config_class=Config)
def main(cfg):
    """Toy job: param 2 fails, param 5 calls sys.exit(3)."""
    import os
    from pathlib import Path

    print(f"job param={cfg.param} name={cfg.name} slurm={os.environ.get('SLURM_JOB_ID')}")
    Path(cfg.save_dir, "out.txt").write_text(f"{cfg.param} {cfg.name}")
    if cfg.param == 2:
        raise ZeroDivisionError("param 2 divides by zero")
    if cfg.param == 5:
        sys.exit(3)


if __name__ == "__main__":
    main()
