"""ConfigStore entry ``hydra/sweeper=naga_optuna`` (cheap: Hydra imports this at every start)."""

# No `from __future__ import annotations` here: Hydra's plugin scan executes this module
# without registering it in sys.modules, and @dataclass must then see real annotations.
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class NagaOptunaConf:
    """Settings of naga's Optuna sweeper (``hydra.sweeper.*``)."""

    _target_: str = "hydra_plugins.naga_optuna.sweeper.NagaOptunaSweeper"
    # Trials in the whole study (a resumed study counts the trials it already has).
    n_trials: int = 20
    # Trials running at once; a new one starts as soon as any ends.
    n_jobs: int = 1
    # minimize or maximize; a list (one per objective) for several objectives.
    direction: Any = "minimize"
    # The metric (run.lock `metrics`) to optimize; `value` is a function's bare return value.
    objective: Any = "value"
    # tpe, random, cmaes, gp, nsga2, nsga3 or qmc.
    sampler: str = "tpe"
    # The sampler's seed (a resumed study moves it on by the trials already made).
    seed: int | None = None
    # An Optuna storage URL; default: <sweep>/.naga-sweep/optuna.journal, beside the receipts.
    storage: str | None = None
    # The study's name in the storage; default: the sweep folder's name.
    study_name: str | None = None
    # Resume even though the search space or the objective changed.
    force: bool = False
    # The search space, key -> expression (`interval(1e-4, 0.1)`, `choice(a, b)`, ...);
    # the command line's overrides add to it and win.
    params: dict[str, str] = field(default_factory=dict)


ConfigStore.instance().store(
    group="hydra/sweeper", name="naga_optuna", node=NagaOptunaConf, provider="naga"
)
