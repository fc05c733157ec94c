"""What ``naga rerun`` compares once the rerun has run, and its verdict.

The invariant is in docs/commands.md: ``reproduced`` (exit 0) only when both runs
completed, the recorded inputs were read, and the resolved config, metrics (within
``--rtol``/``--atol`` when given) and output files are identical; anything else is ``not
reproduced`` (exit 1), every difference printed. The code is not compared: the rerun
checks out exactly the recorded commit or snapshot.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naga.commands._compare import (
    IDENTICAL,
    WITHIN,
    Tolerance,
    compare_metrics,
    mapping_lines,
)
from naga.errors import LockError
from naga.lock.format import LOCK_NAME, PREVIOUS_SUFFIX, read_lock
from naga.lock.metrics import flatten
from naga.lock.status import COMPLETED
from naga.results.locks import Run, as_dict, display_path

#: Files naga itself keeps in a run directory: the receipt, the previous one, its lock.
RECEIPT_FILES = frozenset({LOCK_NAME, LOCK_NAME + PREVIOUS_SUFFIX, f".{LOCK_NAME}.lock"})


@dataclass
class Verdict:
    """What the comparison found: what differs (phrases) and what was only close."""

    differs: list[str] = field(default_factory=list)
    agreed: list[str] = field(default_factory=list)

    def print_summary(self) -> int:
        """Print the verdict line; 0 when reproduced, 1 otherwise."""
        if self.differs:
            print(f"not reproduced: {'; '.join(self.differs)}")
            return 1
        print(f"reproduced: {', '.join(self.agreed)}")
        return 0


def judge(
    original: Run,
    *,
    expected_config: dict[str, Any],
    out: Path,
    inputs_drifted: int,
    exclude: list[str],
    tolerance: Tolerance,
) -> int:
    """Compare the rerun in ``out`` with ``original``, print every difference and the verdict.

    Args:
        original: The run that was re-created.
        expected_config: The config the rerun was given (the recorded one, retargeted).
        out: The rerun's save_dir.
        inputs_drifted: How many recorded inputs (data, upstream runs) had drifted.
        exclude: Output globs to leave out.
        tolerance: How close a metric must be (zero: identical).

    Returns:
        The exit status: 0 reproduced, 1 not.
    """
    verdict = Verdict()
    if original.status != COMPLETED:
        verdict.differs.append(f"the original run did not complete ({original.status})")
    if inputs_drifted:
        verdict.differs.append(
            f"{inputs_drifted} recorded input{'s' if inputs_drifted != 1 else ''} drifted"
        )
    rerun = _read_rerun(out, verdict)
    print(f"compared: {display_path(original.dir)} vs {out}")
    if rerun is not None:
        _config(expected_config, rerun.config, verdict)
        _metrics(original.section("metrics"), rerun.section("metrics"), tolerance, verdict)
    _outputs(original.dir, out, exclude, verdict)
    return verdict.print_summary()


def _read_rerun(out: Path, verdict: Verdict) -> Run | None:
    path = out / LOCK_NAME
    try:
        rerun = Run(path=path, lock=read_lock(path))
    except LockError as exc:
        verdict.differs.append(f"the rerun's run.lock cannot be read ({exc})")
        return None
    if rerun.status != COMPLETED:
        verdict.differs.append(f"the rerun's run.lock says {rerun.status}")
    return rerun


def _config(expected: dict[str, Any], got: dict[str, Any], verdict: Verdict) -> None:
    old, new = flatten(_without_save_dir(expected)), flatten(_without_save_dir(got))
    lines = mapping_lines(old, new)
    keys = len(old.keys() | new.keys())
    if not lines:
        print(f"config: identical ({keys} key{'s' if keys != 1 else ''}; save_dir aside)")
        verdict.agreed.append("config identical")
        return
    print(f"config: {_differ(len(lines), keys, 'key')}")
    for line in lines:
        print(f"  {line}")
    verdict.differs.append(_differ(len(lines), keys, "config key"))


def _without_save_dir(config: dict[str, Any]) -> dict[str, Any]:
    # The rerun writes into a new directory by design; values resolved from save_dir were
    # pointed there too (expected_config holds them retargeted), so they are compared.
    return {key: value for key, value in as_dict(config).items() if key != "save_dir"}


def _metrics(
    old: dict[str, Any], new: dict[str, Any], tolerance: Tolerance, verdict: Verdict
) -> None:
    rows = compare_metrics(old, new, tolerance)
    if not rows:
        print("metrics: none recorded by either run")
        verdict.agreed.append("no metrics")
        return
    bad = [row for row in rows if not row.agrees]
    within = [row for row in rows if row.status == WITHIN]
    label = f"within {tolerance.label()}"
    if bad:
        head = _differ(len(bad), len(rows), "metric")
    elif within:
        head = f"{len(rows)} {label} ({len(within)} not identical)"
    else:
        head = f"{len(rows)} identical"
    print(f"metrics: {head}")
    width = max(16, len(label) + 2) if within else 16
    for row in rows:
        status = label if row.status == WITHIN else row.status
        print(f"  {status:<{width}}{row.name}  {row.values()}")
    if bad:
        verdict.differs.append(_differ(len(bad), len(rows), "metric"))
    elif within:
        verdict.agreed.append(f"metrics {label} ({len(within)} of {len(rows)} not identical)")
    else:
        verdict.agreed.append(f"{len(rows)} metric{'s' if len(rows) != 1 else ''} identical")


def _outputs(original: Path, out: Path, exclude: list[str], verdict: Verdict) -> None:
    rows, same = compare_outputs(original, out, exclude=exclude)
    different = len(rows) - same
    if not rows:
        left_out = " (--exclude left out the rest)" if exclude else ""
        print(f"outputs: no files besides run.lock{left_out}")
        verdict.agreed.append(f"no output files besides run.lock{left_out}")
        return
    print(f"outputs: {_differ(different, len(rows), 'file') if different else f'{same} identical'}")
    for status, name in rows:
        print(f"  {status:<16}{name}")
    if different:
        verdict.differs.append(_differ(different, len(rows), "output file"))
    else:
        verdict.agreed.append(f"{same} output file{'s' if same != 1 else ''} identical")


def _differ(count: int, total: int, noun: str) -> str:
    """``1 of 3 config keys differs``, ``2 of 2 metrics differ``."""
    return f"{count} of {total} {noun}{'s' if total != 1 else ''} differ{'s' if count == 1 else ''}"


def _output_files(root: Path, exclude: list[str]) -> dict[str, Path]:
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if rel in RECEIPT_FILES or any(fnmatch.fnmatch(rel, pattern) for pattern in exclude):
                continue
            files[rel] = path
    return files


def compare_outputs(
    original: Path, rerun: Path, *, exclude: list[str]
) -> tuple[list[tuple[str, str]], int]:
    """Compare two output directories file by file (naga's receipt files excluded).

    Returns:
        ``([(status, relative path), ...], number identical)``; status is ``identical``,
        ``different``, ``only in original`` or ``only in rerun``.
    """
    from naga.lock.hashing import hash_file

    old, new = _output_files(original, exclude), _output_files(rerun, exclude)
    rows = []
    same = 0
    for rel in sorted(old.keys() | new.keys()):
        if rel not in new:
            rows.append(("only in original", rel))
        elif rel not in old:
            rows.append(("only in rerun", rel))
        elif hash_file(old[rel], use_cache=False) == hash_file(new[rel], use_cache=False):
            rows.append((IDENTICAL, rel))
            same += 1
        else:
            rows.append(("different", rel))
    return rows, same
