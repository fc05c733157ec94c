"""``hydra/sweeper=halving``: a lab's own sweeper, as a plugin in the user's repository."""

from dataclasses import dataclass

from hydra.core.config_store import ConfigStore


@dataclass
class HalvingConf:
    _target_: str = "hydra_plugins.halving_sweeper.halving.HalvingSweeper"
    # How many of the best values of the first round run again in the second.
    keep: int = 1


ConfigStore.instance().store(group="hydra/sweeper", name="halving", node=HalvingConf)
