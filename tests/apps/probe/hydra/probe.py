"""The same app in plain Hydra: its jobs record what Hydra's own multirun gives them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hydra
from _record import CONFIG, record
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig

ConfigStore.instance().store(name="probe", node=CONFIG)


@hydra.main(version_base="1.3", config_path=None, config_name="probe")
def main(cfg) -> None:
    record(cfg, Path(HydraConfig.get().runtime.output_dir))


if __name__ == "__main__":
    main()
