"""A two-round sweeper: every value of ``key=a,b,c`` once, then the best ``keep`` again.

Its second round depends on the first round's results, so the sweep's jobs are not known
up front (as with any search); it launches through the configured launcher.
"""

from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper


class HalvingSweeper(Sweeper):
    def __init__(self, keep: int = 1) -> None:
        self.keep = keep
        self.launcher: Any = None
        self.config: Any = None

    def setup(self, *, hydra_context: Any, task_function: Any, config: Any) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any | None:
        parser = OverridesParser.create()
        parsed = parser.parse_overrides(arguments)
        fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
        (swept,) = [o for o in parsed if o.is_sweep_override()]
        key = swept.get_key_element()
        values = [str(v) for v in swept.sweep_string_iterator()]
        first = [[*fixed, f"{key}={v}"] for v in values]
        results = self.launcher.launch(first, initial_job_idx=0)
        scored = []
        for job, ret in zip(first, results, strict=True):
            value = ret.return_value
            scored.append((value["loss"], job))
        scored.sort(key=lambda pair: pair[0])
        second = [job for _, job in scored[: self.keep]]
        self.launcher.launch(second, initial_job_idx=len(first))
        return scored[0][1]
