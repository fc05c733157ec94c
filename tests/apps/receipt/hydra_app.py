"""A plain @hydra.main app with no naga code: run.locks come from the naga_runlock callback."""

import os
import time
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig

ConfigStore.instance().store(name="cfg", node={"x": 1, "sleep": 0.0})


@hydra.main(version_base="1.3", config_path=None, config_name="cfg")
def my_app(cfg) -> None:
    out = Path(HydraConfig.get().runtime.output_dir)
    (out / "out.txt").write_text(f"x={cfg.x}\n")
    if cfg.sleep:
        (out / "started").write_text(str(os.getpid()))
        time.sleep(cfg.sleep)


if __name__ == "__main__":
    my_app()
