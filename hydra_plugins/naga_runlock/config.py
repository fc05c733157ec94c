"""ConfigStore entry ``hydra/callbacks=naga_runlock`` (cheap: Hydra imports this at every start)."""

# No `from __future__ import annotations` here: Hydra's plugin scan executes this module
# without registering it in sys.modules, and @dataclass must then see real annotations.
from dataclasses import dataclass

from hydra.core.config_store import ConfigStore


@dataclass
class NagaRunLockConf:
    """Settings of the run.lock callback."""

    _target_: str = "hydra_plugins.naga_runlock.callback.RunLockCallback"
    # Record the git state of the app's repository (commit, dirty snapshot).
    track_code: bool = True
    # File name of the receipt inside each job's output directory.
    lock_name: str = "run.lock"


# The hydra/callbacks group is packaged at `hydra.callbacks`, a mapping name -> callback.
ConfigStore.instance().store(
    group="hydra/callbacks",
    name="naga_runlock",
    node={"naga_runlock": NagaRunLockConf},
    provider="naga",
)
