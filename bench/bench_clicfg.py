"""clicfg start-up cost, side by side with a minimal Hydra app (issue: clicfg performance).

Measures, interleaved so noise hits both alike:
  * `python examples/quickstart/process.py -o param=10` (naga: compose, run, two run.lock
    writes with git state and a data hash) vs a minimal `@hydra.main` app that only prints
    its config (`python hydra_app.py param=10`);
  * `python -c "import naga"` vs `python -c "pass"`.

    python bench/bench_clicfg.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from _timing import interleaved, machine, time_command

REPO = Path(__file__).resolve().parents[1]
HYDRA_APP = textwrap.dedent(
    """
    from dataclasses import dataclass
    import hydra
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    @dataclass
    class Config:
        param: int = 1
        input_path: str = "data/preprocess/input.csv"
        save_dir: str = "results/process"

    ConfigStore.instance().store(name="config", node=Config)

    @hydra.main(version_base="1.3", config_path=None, config_name="config")
    def main(cfg):
        print(OmegaConf.to_yaml(cfg))

    if __name__ == "__main__":
        main()
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="naga-bench-clicfg-"))
    try:
        shutil.copy(REPO / "examples" / "quickstart" / "process.py", work / "process.py")
        (work / "hydra_app.py").write_text(HYDRA_APP)
        ident = ["-c", "user.name=bench", "-c", "user.email=bench@naga.invalid"]
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        subprocess.run(["git", *ident, "add", "process.py", "hydra_app.py"], cwd=work, check=True)
        subprocess.run(["git", *ident, "commit", "-qm", "bench"], cwd=work, check=True)
        (work / ".gitignore").write_text("outputs/\nresults/\ndata/\n.gitignore\n")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        py = sys.executable
        cases = {
            "naga process.py -o param=10": lambda: time_command(
                [py, "process.py", "-o", "param=10"], cwd=str(work), env=env
            ),
            "hydra.main app param=10": lambda: time_command(
                [py, "hydra_app.py", "param=10"], cwd=str(work), env=env
            ),
            "python -c 'import naga'": lambda: time_command([py, "-c", "import naga"], env=env),
            "python -c 'pass'": lambda: time_command([py, "-c", "pass"], env=env),
        }
        for fn in cases.values():  # warm the OS cache and naga's caches once
            fn()
        medians = interleaved(cases, args.repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"# clicfg start-up ({machine()}, median of {args.repeats})")
    for name, value in medians.items():
        print(f"{name:32s} {value * 1000:8.1f} ms")
    names = list(medians)
    print(f"ratio naga / hydra.main          {medians[names[0]] / medians[names[1]]:8.2f}x")
    print(
        f"import naga above bare start     {(medians[names[2]] - medians[names[3]]) * 1000:8.1f} ms"
    )


if __name__ == "__main__":
    main()
