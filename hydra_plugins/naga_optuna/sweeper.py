"""The ``_target_`` of ``hydra/sweeper=naga_optuna`` when a plain ``@hydra.main`` app names it.

A ``@clicfg`` script's sweep never instantiates it: naga runs the study itself
(naga.launch.sweepers.controller). In a plain Hydra app, Hydra would; the study needs naga's
task (a run.lock per trial), so this says how to run it instead.
"""

from typing import Any

from hydra.errors import CompactHydraException
from hydra.plugins.sweeper import Sweeper


class NotANagaApp(CompactHydraException):
    """Hydra prints this one's message alone, without a traceback."""


class NagaOptunaSweeper(Sweeper):
    """Refuses to run outside naga, with the way to run the study."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def setup(self, *, hydra_context: Any, task_function: Any, config: Any) -> None:
        """Refuse: the study runs from a ``@clicfg`` script."""
        raise NotANagaApp(
            "hydra/sweeper=naga_optuna: naga's Optuna sweeper runs from @clicfg scripts "
            "(`python train.py -m hydra/sweeper=naga_optuna ...`); decorate the function "
            "with naga.clicfg, or use hydra-optuna-sweeper in this @hydra.main app"
        )

    def sweep(self, arguments: list[str]) -> Any | None:
        """Not reached: :meth:`setup` refuses."""
        raise NotImplementedError
