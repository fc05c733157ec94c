"""A user's @clicfg script (tests/clicfg copies it to train.py in a fresh directory)."""

import json

from omegaconf import OmegaConf

from naga import clicfg


class Config:
    param = 1
    lr = 0.1
    name = "x"
    tags = ["a"]
    save_dir = "results/run"

    class model:
        depth = 2
        width = 8


@clicfg(config_class=Config)
def main(cfg: Config):
    """Train the thing on the data."""
    print("CFG=" + json.dumps(OmegaConf.to_container(cfg)))
    if cfg.name == "boom":
        raise ValueError("boom from the user's function")
    return cfg.param


if __name__ == "__main__":
    main()
