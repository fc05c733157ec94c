"""``naga rerun RUN``: re-create a run from its run.lock and say whether it reproduced.

The recorded code is checked out into a new, detached ``git worktree`` (the user's HEAD,
index, branches and work tree are left alone), the recorded inputs verified and linked in,
the recorded script run with the recorded config, and the result compared
(:mod:`._reproduce` holds the verdict's invariant).
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from naga.commands import _render as r
from naga.commands._clone import Located, ensure_code, locate
from naga.commands._compare import Tolerance
from naga.errors import LockError, UsageError
from naga.lock.git.recorded import add_worktree, open_repo, remove_worktree
from naga.results.locks import Run, as_dict, code_state, data_abspath, display_path, load_run


def add_parser(subparsers: Any) -> None:
    """Declare ``naga rerun``."""
    parser = subparsers.add_parser(
        "rerun",
        help="re-create a run from its run.lock in a git worktree; say whether it reproduced",
        description="Check out the run's code (snapshot or commit) into a detached git "
        "worktree, verify the recorded data hashes and upstream runs, run the recorded "
        "script with the recorded config into a new save_dir, and compare the rerun's "
        "resolved config, its metrics and every output file with the original run. Exit "
        "status: 0 'reproduced' (the config identical, every metric identical or within "
        "--rtol/--atol, every output file identical, from unchanged inputs), 1 otherwise.",
    )
    parser.add_argument("run", metavar="RUN", help="a run directory (save_dir) or its run.lock")
    parser.add_argument(
        "--workdir",
        metavar="DIR",
        help="where to put the checkout (DIR/code), the config (DIR/config.yml) and the new "
        "save_dir (DIR/out); must be new or empty (default: a new temporary directory)",
    )
    parser.add_argument(
        "--override",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra override passed to the script, e.g. a secret redacted in run.lock",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="output files to leave out of the comparison (relative path glob; repeatable)",
    )
    parser.add_argument(
        "--rtol",
        type=_tolerance,
        default=0.0,
        metavar="R",
        help="a metric counts as reproduced when |a-b| <= max(R*max(|a|,|b|), ATOL) "
        "(default 0: identical); the verdict says so",
    )
    parser.add_argument(
        "--atol",
        type=_tolerance,
        default=0.0,
        metavar="A",
        help="absolute tolerance on metrics (default 0); see --rtol",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop before running when recorded data or upstream runs drifted",
    )
    parser.add_argument(
        "--keep-worktree",
        action="store_true",
        help="keep DIR/code registered as a git worktree (default: remove it after the run)",
    )


def _tolerance(text: str) -> float:
    """A tolerance given on the command line: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a tolerance; give a number >= 0, e.g. 1e-6"
        )
    return value


def run(args: argparse.Namespace) -> int:
    """Re-create the run; exit 0 when it reproduced (see :mod:`._reproduce`), 1 otherwise."""
    from naga.commands._reproduce import judge
    from naga.commands.verify import verify_data, verify_lineage

    located = locate(load_run(args.run))
    original = located.run
    script, repo_root, sha, kind = _code_to_check_out(original)
    fetched = ensure_code(located, _repo_entry(original, repo_root) or {})
    config = copy.deepcopy(original.config)
    if "save_dir" not in config:
        raise LockError(
            f"{original.path} records no config key 'save_dir', so a rerun cannot be sent to "
            "a new directory; give the config class a save_dir field"
        )
    for item in args.override:
        if "=" not in item:
            raise UsageError(
                f"--override {item!r}: expected KEY=VALUE, e.g. --override api_key=..."
            )

    workdir = _prepare_workdir(args.workdir, original)
    code, out, config_file = workdir / "code", workdir / "out", workdir / "config.yml"
    print(f"rerun of {display_path(original.dir)}  (run {r.short_id(original.run_id)})")
    if located.note:
        print(f"  clone   {located.note}")
    if fetched:
        print(f"  fetch   {fetched}")
    print(f"  code    {kind} {sha[:12]} of {repo_root} → {code}")

    findings = [*verify_data(original), *verify_lineage(original)]
    drifted = [f for f in findings if f.drift]
    for finding in findings:
        print(f"  {finding.area:<8}{finding.status}  {finding.key}  {finding.detail}")
    if drifted and args.strict:
        print(f"{len(drifted)} input drift(s): not running (--strict)")
        return 1

    add_worktree(repo_root, code, sha)
    try:
        run_cwd = _map_cwd(original, repo_root, code)
        for link, target in _link_inputs(original, run_cwd):
            print(f"  linked  {link.relative_to(code)} → {target}")
        redacted = original.lock.get("redacted") or []
        given = {item.split("=", 1)[0] for item in args.override}
        for key in redacted:
            if key not in given:
                print(f"  warning: config key {key} was redacted; pass --override {key}=VALUE")
        for key in _retarget(config, str(original.config["save_dir"]), str(out)):
            print(f"  config  {key} pointed into the original save_dir; now into {out}")
        for key in _into_this_clone(config, located):
            print(f"  config  {key} pointed into the recorded clone; now into {located.clone}")
        _write_yaml(config_file, config)
        start, env = _start_command(original, code, script)
        command = [*start, "--config", str(config_file), *args.override]
        print(f"  run     {r.command_line(command)}  (in {run_cwd})")
        sys.stdout.flush()
        result = subprocess.run(command, cwd=run_cwd, env=env, check=False)
    finally:
        if not args.keep_worktree:
            remove_worktree(repo_root, code)
    if result.returncode != 0:
        print(f"the rerun failed with exit code {result.returncode}; its outputs are in {out}")
        print(f"not reproduced: the rerun failed (exit code {result.returncode})")
        return 1
    return judge(
        original,
        expected_config=config,
        out=out,
        inputs_drifted=len(drifted),
        exclude=args.exclude,
        tolerance=Tolerance(rtol=args.rtol, atol=args.atol),
    )


def _start_command(run: Run, code: Path, script: str) -> tuple[list[str], dict[str, str] | None]:
    """How the run's code is started again: as a file, or as the module it was run as.

    A module (``python -m pkg.mod``, a console script) is imported from the checkout: its
    package root (``src/`` in a src layout) goes first on PYTHONPATH.
    """
    module = as_dict(run.lock.get("script")).get("module")
    if not isinstance(module, str) or not module:
        return [sys.executable, str(code / script)], None
    parts = Path(script).with_suffix("").parts
    depth = len(module.split(".")) + (parts[-1] == "__init__")
    package_root = code.joinpath(*parts[: max(len(parts) - depth, 0)])
    path = os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")]))
    return [sys.executable, "-m", module], {**os.environ, "PYTHONPATH": path}


def _code_to_check_out(run: Run) -> tuple[str, Path, str, str]:
    """(script path in repo, repo root, commit to check out, 'snapshot'|'commit')."""
    script = as_dict(run.lock.get("script"))
    if not script.get("path") or not script.get("repo"):
        raise LockError(
            f"{run.path} records no script inside a git repository, so its code cannot be "
            "checked out; rerun needs a run made by a script in a git repository"
        )
    repo_root = Path(str(script["repo"]))
    entry = _repo_entry(run, repo_root)
    if entry is None:
        raise LockError(
            f"{run.path} records no code state for repository {repo_root}; "
            "track it with runlock(repos=['.']) (or @clicfg's default code tracking)"
        )
    sha, kind = code_state(entry)
    if sha is None or (entry.get("dirty") and kind != "snapshot"):
        raise LockError(
            f"{run.path}: repository {repo_root} was dirty without a snapshot (or had no "
            "commit), so the exact code cannot be checked out; commit your code and run again"
        )
    repo = open_repo(repo_root)
    return str(script["path"]), Path(str(repo.workdir or repo_root)).resolve(), sha, kind


def _into_this_clone(config: dict[str, Any], located: Located) -> list[str]:
    """Config paths recorded below the other clone's root, moved into this one."""
    if located.clone is None or located.recorded_root is None:
        return []
    return _retarget(config, located.recorded_root, str(located.clone))


def _repo_entry(run: Run, root: Path) -> dict[str, Any] | None:
    for entry in run.section("repos").values():
        if isinstance(entry, dict) and entry.get("root") and _same(Path(entry["root"]), root):
            return entry
    return None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return os.path.normpath(a) == os.path.normpath(b)


def _prepare_workdir(given: str | None, run: Run) -> Path:
    if given is None:
        prefix = f"naga-rerun-{r.short_id(run.run_id)}-"
        return Path(tempfile.mkdtemp(prefix=prefix)).resolve()
    workdir = Path(given).expanduser().resolve()
    if workdir.exists() and (not workdir.is_dir() or any(workdir.iterdir())):
        raise UsageError(
            f"--workdir {given} already exists and is not empty; pass a new or empty directory"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _map_cwd(run: Run, repo_root: Path, code: Path) -> Path:
    """The recorded cwd, moved into the checkout (the repo root when it was outside)."""
    try:
        rel = run.cwd.resolve().relative_to(repo_root)
    except (ValueError, OSError):
        return code
    target = code / rel
    target.mkdir(parents=True, exist_ok=True)
    return target


def _link_inputs(run: Run, run_cwd: Path) -> list[tuple[Path, Path]]:
    """Symlink the recorded inputs the checkout lacks (ignored data, upstream results).

    For each recorded data path and upstream run directory below the recorded cwd, the
    topmost directory missing from the checkout (typically an ignored ``data/`` or
    ``results/``) is linked to the original: scripts that list a directory (a glob over
    ``results/train``) then see it as the original run did. Absolute paths are read where
    they are. Links, not copies, so large data costs nothing; a script that writes into its
    own inputs writes into the originals -- as the original run did.
    """
    wanted: list[Path] = [
        Path(os.path.normpath(run.dir / str(as_dict(entry).get("path", "."))))
        for entry in run.section("prevs").values()
    ]
    for key, entry in run.section("data").items():
        path = str(as_dict(entry).get("path", key))
        if not Path(path).is_absolute():
            wanted.append(data_abspath(run, path))
    links = []
    cwd = Path(os.path.normpath(run.cwd))
    for source in wanted:
        try:
            rel = Path(os.path.normpath(source)).relative_to(cwd)
        except ValueError:
            continue
        if str(rel) in {"", "."} or not source.exists():
            continue
        for depth in range(1, len(rel.parts) + 1):
            prefix = Path(*rel.parts[:depth])
            link, original = run_cwd / prefix, cwd / prefix
            if os.path.lexists(link):
                if link.is_symlink():
                    break  # already reachable through a linked directory
                continue
            link.symlink_to(original.resolve(), target_is_directory=original.is_dir())
            links.append((link, original))
            break
    return links


def _retarget(config: dict[str, Any], old: str, new: str, prefix: str = "") -> list[str]:
    """Point ``save_dir`` and values resolved from it (``${save_dir}/model.pt``) at ``new``.

    The recorded config is fully resolved, so an interpolation of save_dir now holds the
    original directory: left as is, the rerun would overwrite the run it is checking.
    """
    moved = []
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            moved += _retarget(value, old, new, dotted + ".")
        elif isinstance(value, str) and (value == old or value.startswith(old.rstrip("/") + "/")):
            config[key] = new + value[len(old.rstrip("/")) :] if value != old else new
            if dotted != "save_dir":
                moved.append(dotted)
    return moved


def _write_yaml(path: Path, config: dict[str, Any]) -> None:
    import yaml

    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
