"""A config using ${runlock_data:...} built before naga is imported (tests/lock_core)."""

from omegaconf import OmegaConf

cfg = OmegaConf.create({"x": "${runlock_data:in.csv}", "save_dir": "o"})

from naga.lock.api import runlock  # noqa: E402  # on purpose: after the config exists

runlock(cfg)
