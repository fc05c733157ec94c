"""Run every benchmark in bench/ at its documented size, one after another.

Each program compares naga side by side with its anchor in the same run and prints medians
and ratios; this just runs them in turn so `make bench` reproduces every figure in
docs/benchmarks.md. Pass program names to run a subset: `python bench/run_all.py clicfg sweep`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    wanted = set(sys.argv[1:])
    failed = []
    for program in sorted(HERE.glob("bench_*.py")):
        name = program.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"\n##### {program.name}", flush=True)
        if subprocess.run([sys.executable, str(program)], cwd=HERE.parent, check=False).returncode:
            failed.append(program.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
