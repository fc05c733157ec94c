"""A plain @hydra.main app with no naga code (tests/launch/test_plugin.py): run.locks come from
the naga_runlock callback, selected on the command line."""

import hydra
from hydra.core.config_store import ConfigStore

ConfigStore.instance().store(name="cfg", node={"x": 1, "label": "${x}-run"})


@hydra.main(version_base="1.3", config_path=None, config_name="cfg")
def main(cfg):
    if cfg.x == 2:
        raise ValueError("x=2 is bad")
    return cfg.x / 2  # recorded as metrics.value


if __name__ == "__main__":
    main()
