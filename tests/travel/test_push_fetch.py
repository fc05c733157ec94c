"""From the cluster to the laptop through a git remote: ``naga push``, then fetch on demand.

Clone A (the cluster) runs a basic sweep on committed code and a joblib sweep with an
uncommitted edit; ``naga push`` publishes what the runs need to a bare remote; clone B
(the laptop), made fresh from the remote, gets ``results/`` by a plain copy and re-creates,
compares and verifies the runs there, fetching the snapshot from the remote on demand.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml
from helpers import one_line_error
from travel_world import Machine, World, run_sweeps

from naga.errors import escape_newlines


def lock(machine: Machine, run: str) -> dict:
    return yaml.safe_load((machine.root / run / "run.lock").read_text())


def snapshot_of(machine: Machine, run: str) -> dict:
    return lock(machine, run)["repos"]["."]["snapshot"]


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_runs_pushed_from_the_cluster_rerun_and_verify_on_the_laptop(world: World) -> None:
    remote = world.bare()
    cluster = world.project("cluster", remote)
    run_sweeps(cluster)
    snap = snapshot_of(cluster, "results/joblib/lr=0.1")
    assert snapshot_of(cluster, "results/joblib/lr=0.2") == snap  # one edit, one snapshot
    in_a = cluster.naga("rerun", "results/joblib/lr=0.1")
    assert in_a.returncode == 0, in_a.stdout + in_a.stderr

    # git push alone leaves the snapshot behind; naga push sends exactly what is missing.
    assert snap["ref"] not in git_refs(cluster, str(remote))
    pushed = cluster.naga("push", "results")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert f"  pushed     {snap['ref']}  (snapshot {snap['commit'][:12]}, 2 runs:" in pushed.stdout
    assert "1 pushed, 1 already there" in pushed.stdout  # the commit is on main already
    assert git_refs(cluster, str(remote))[snap["ref"]] == snap["commit"]
    again = cluster.naga("push", "results")
    assert again.returncode == 0
    held = "nothing to push: the remote already holds the 1 snapshot and 1 commit the runs need"
    assert held in again.stdout

    laptop = world.clone(remote, "laptop")
    assert snap["ref"] not in laptop.refs()
    assert laptop.git("cat-file", "-t", snap["commit"], check=False) == ""  # not here yet
    shutil.copytree(cluster.root / "results", laptop.root / "results", symlinks=True)

    rerun = laptop.naga("rerun", "results/joblib/lr=0.1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    out = rerun.stdout
    assert f"made in {cluster.root} on " in out and f"read in this clone, {laptop.root}" in out
    assert f"fetched snapshot {snap['commit'][:12]} from origin ({remote})" in out
    assert "  data    ok  data/input.csv" in out
    assert out.rstrip().endswith(
        "reproduced: config identical, no metrics, 1 output file identical"
    )
    assert in_a.stdout.rstrip().splitlines()[-1] == out.rstrip().splitlines()[-1]
    assert laptop.refs()[snap["ref"]] == snap["commit"]  # kept alive under its own name

    diff = laptop.naga("diff", "--files", "results/basic/lr=0.1", "results/joblib/lr=0.1")
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "      M train.py" in diff.stdout

    verified = laptop.naga("verify", "results/joblib/lr=0.2")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"in another clone: made in {cluster.root}" in verified.stdout
    assert "ok  receipt  digest" in verified.stdout
    assert f"not found at {laptop.root}" not in verified.stdout
    # The laptop's data is what is checked, not the cluster's (still on this machine).
    (laptop.root / "data" / "input.csv").write_text("1\n2\n4\n")
    drifted = laptop.naga("verify", "results/joblib/lr=0.2")
    assert drifted.returncode == 1
    assert "CHANGED  data     data/input.csv  blake3:" in drifted.stdout
    assert cluster.naga("verify", "results/joblib/lr=0.2").returncode == 0
    # naga gc of the copies looks after this clone's snapshot refs, not the cluster's.
    gc = laptop.naga("gc", "results", "--dry-run")
    assert gc.stdout.startswith(f"{laptop.root}: 1 snapshot refs, 1 referenced"), gc.stdout
    assert str(cluster.root) not in gc.stdout


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_a_missing_snapshot_names_the_push_that_would_publish_it(world: World) -> None:
    remote = world.bare()
    cluster = world.project("cluster", remote)
    run_sweeps(cluster)
    laptop = world.clone(remote, "laptop")
    shutil.copytree(cluster.root / "results", laptop.root / "results", symlinks=True)
    snap = snapshot_of(cluster, "results/joblib/lr=0.1")
    for argv in (
        ("rerun", "results/joblib/lr=0.1"),
        ("diff", "--files", "results/basic/lr=0.1", "results/joblib/lr=0.1"),
    ):
        result = laptop.naga(*argv)
        assert result.returncode == 2, result.stdout + result.stderr
        line = one_line_error(result.stderr)
        assert f"snapshot {snap['commit'][:12]} ({snap['ref']}) of run " in line
        assert escape_newlines(f"none of origin ({remote}) has it") in line
        there = escape_newlines(str(cluster.root / "results/joblib/lr=0.1"))
        assert f"publish it with `naga push {there}` on " in line
    shown = laptop.naga("verify", "results/joblib/lr=0.1")
    assert shown.returncode == 1
    assert f"UNREACHABLE  code     .               snapshot {snap['commit'][:8]}" in shown.stdout


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_the_remote_recorded_in_the_run_lock_is_asked_first(world: World) -> None:
    remote, mirror = world.bare(), world.bare("mirror.git")
    cluster = world.project("cluster", remote)
    run_sweeps(cluster)
    assert cluster.naga("push", "results").returncode == 0
    cluster.git("push", "-q", str(mirror), "main")  # the mirror has the branch only
    colleague = world.clone(mirror, "colleague")
    shutil.copytree(cluster.root / "results", colleague.root / "results", symlinks=True)
    snap = snapshot_of(cluster, "results/joblib/lr=0.2")
    rerun = colleague.naga("rerun", "results/joblib/lr=0.2")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    shown = f"fetched snapshot {snap['commit'][:12]} from origin ({remote}, recorded)"
    assert shown in rerun.stdout
    assert colleague.git("remote").split() == ["origin"]  # no remote was added


def git_refs(machine: Machine, remote: str) -> dict[str, str]:
    out = machine.git("ls-remote", remote)
    return {name: sha for sha, name in (line.split("\t") for line in out.splitlines())}


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_push_reaches_each_repositorys_own_remote_and_a_clean_commit_off_every_branch(
    world: World,
) -> None:
    remote = world.bare()
    cluster = world.project("cluster", remote)
    # A commit that was never pushed: the run on it needs refs/naga/commits/<sha>.
    (cluster.root / "notes.txt").write_text("local only\n")
    cluster.git("add", "notes.txt")
    cluster.git("commit", "-q", "-m", "not pushed")
    cluster.py("save_dir=results/local")
    head = cluster.git("rev-parse", "HEAD").strip()
    dry = cluster.naga("push", "results", "--dry-run")
    assert f"  would push refs/naga/commits/{head}  (commit {head[:12]}, 1 run:" in dry.stdout
    assert f"refs/naga/commits/{head}" not in git_refs(cluster, str(remote))
    pushed = cluster.naga("push", "results")
    assert pushed.returncode == 0, pushed.stderr
    assert git_refs(cluster, str(remote))[f"refs/naga/commits/{head}"] == head

    laptop = world.clone(remote, "laptop")
    shutil.copytree(cluster.root / "results", laptop.root / "results", symlinks=True)
    rerun = laptop.naga("rerun", "results/local")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"fetched commit {head[:12]} from origin" in rerun.stdout


@pytest.mark.interpreter_independent
@pytest.mark.slow
def test_runs_of_two_repositories_push_each_to_its_own_remote(world: World) -> None:
    remote, lib_remote = world.bare(), world.bare("lib.git")
    cluster = world.project("cluster", remote)
    lib = world.clone(lib_remote, "lib")
    (lib.root / "layers.py").write_text("DEPTH = 1\n")
    lib.git("add", "-A")
    lib.git("-c", "user.name=n", "-c", "user.email=e@x", "commit", "-q", "-m", "lib")
    lib.git("push", "-q", "origin", "main")
    (lib.root / "layers.py").write_text("DEPTH = 2  # not committed\n")
    train = cluster.root / "train.py"
    train.write_text(train.read_text() + "# not committed either\n")
    cluster.py("extra_repo=../lib", "save_dir=results/two")
    repos = lock(cluster, "results/two")["repos"]
    assert set(repos) == {".", "../lib"}
    pushed = cluster.naga("push", "results")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert f"{cluster.root} → origin ({remote})" in pushed.stdout
    assert f"{lib.root} → origin ({lib_remote})" in pushed.stdout
    for key, bare in ((".", remote), ("../lib", lib_remote)):
        snap = repos[key]["snapshot"]
        assert git_refs(cluster, str(bare))[snap["ref"]] == snap["commit"]


def test_push_says_which_code_is_gone_and_pushes_the_rest(world: World) -> None:
    remote = world.bare()
    cluster = world.project("cluster", remote)
    train = cluster.root / "train.py"
    train.write_text(train.read_text() + "# first edit\n")
    cluster.py("save_dir=results/gone")
    train.write_text(train.read_text() + "# second edit\n")
    cluster.py("save_dir=results/kept")
    gone, kept = snapshot_of(cluster, "results/gone"), snapshot_of(cluster, "results/kept")
    cluster.git("update-ref", "-d", gone["ref"])
    cluster.git("reflog", "expire", "--expire=now", "--all")
    cluster.git("gc", "-q", "--prune=now")
    result = cluster.naga("push", "results")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"  missing    snapshot {gone['commit'][:12]} needed by results/gone: not in" in (
        result.stdout
    )
    assert git_refs(cluster, str(remote))[kept["ref"]] == kept["commit"]


def test_push_with_no_remote_is_one_line(world: World) -> None:
    alone = world.project("alone")
    alone.py("save_dir=results/one")
    result = alone.naga("push", "results")
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert line.startswith("naga push: error: repository ")
    assert "has no remote to push the code of 1 run to; add one with `git remote add" in line
    unknown = alone.naga("push", "results", "--remote", "upstream")
    assert "--remote upstream: repository" in one_line_error(unknown.stderr)
    assert unknown.returncode == 2


def test_push_to_a_remote_that_refuses_is_one_line(world: World) -> None:
    remote = world.bare()
    cluster = world.project("cluster", remote)
    train = cluster.root / "train.py"
    train.write_text(train.read_text() + "# dirty\n")
    cluster.py("save_dir=results/dirty")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'refs/naga/* are not welcome here' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = cluster.naga("push", "results")
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_line_error(result.stderr)
    assert escape_newlines(f"remote 'origin' ({remote}) refused refs/naga/snapshots/") in line
    assert "pre-receive hook declined" in line
    assert "push to another remote with --remote NAME" in line
    # Nothing arrived.
    assert not [r for r in git_refs(cluster, str(remote)) if r.startswith("refs/naga/")]


def test_push_of_a_directory_without_runs_is_one_line(world: World) -> None:
    alone = world.project("alone")
    (alone.root / "empty").mkdir()
    result = alone.naga("push", "empty")
    assert result.returncode == 2
    assert "no run.lock below empty; pass directories that hold runs" in one_line_error(
        result.stderr
    )


def test_the_command_lists_the_new_subcommands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "naga", "--help"], capture_output=True, text=True, check=False
    )
    for name in ("push", "export", "import"):
        assert f"    {name} " in result.stdout
