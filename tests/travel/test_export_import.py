"""No remote at all: ``naga export`` on the cluster, ``naga import`` in a laptop clone.

The laptop's clone was made before the runs, so it has never seen their snapshot, and its
remote is removed (no network to the cluster). After an import, ``naga rerun`` and ``naga
verify`` work there; every bad file (not an export, truncated, corrupt, another
repository's, hostile members) is refused with one line, exit 2, and nothing written.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import HOSTILE_NAME, one_line_error
from travel_world import Machine, World, run_sweeps


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Machine, Path]]:
    """A cluster clone (no remote) with both sweeps, and its export: read-only."""
    base = tmp_path_factory.mktemp("exported") / HOSTILE_NAME
    base.mkdir()
    world = World(base)
    cluster = world.project("cluster")
    run_sweeps(cluster)
    target = base / "runs.tar"
    result = cluster.naga("export", "results", "-o", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    yield world, cluster, target


def laptop_of(world: World, cluster: Machine, name: str) -> Machine:
    """A clone of the cluster's branches only, cut off from it (no remote)."""
    laptop = world.clone(cluster.root, name)
    laptop.git("remote", "remove", "origin")
    return laptop


def everything(path: Path) -> dict[str, bytes | str]:
    """Every file, link and directory below ``path`` with its content (hidden ones too)."""
    found: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(path))
            if full.is_symlink():
                found[rel] = "-> " + os.readlink(full)
            elif full.is_file():
                found[rel] = full.read_bytes()
            else:
                found[rel] = "dir"
    return found


def snapshot_ref(machine: Machine, run: str) -> dict:
    return yaml.safe_load((machine.root / run / "run.lock").read_text())["repos"]["."]["snapshot"]


@pytest.mark.slow
def test_export_then_import_lets_the_laptop_rerun_with_no_network(world: World) -> None:
    cluster = world.project("cluster")
    laptop = laptop_of(world, cluster, "laptop")  # before the runs: no snapshot there
    run_sweeps(cluster)
    snap = snapshot_ref(cluster, "results/joblib/lr=0.1")
    refs_before = cluster.refs()
    target = world.base / "runs.tar.gz"
    exported = cluster.naga("export", "results", "-o", str(target))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert exported.stdout.startswith(f"exported 4 runs to {target} (")
    assert "code " in exported.stdout and "(1 snapshot and 1 commit of 1 repository)" in (
        exported.stdout
    )
    assert cluster.refs() == refs_before  # the bundle's refs never touch the user's repo

    assert laptop.git("cat-file", "-t", snap["commit"], check=False) == ""
    imported = laptop.naga("import", str(target))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert imported.stdout.startswith(f"imported 4 of 4 runs into {laptop.root}\n")
    assert f"  added 1 ref: {snap['ref']}\n" in imported.stdout  # the commit is on main here
    assert laptop.refs()[snap["ref"]] == snap["commit"]
    for run in ("results/basic/lr=0.1", "results/joblib/lr=0.2"):
        for name in ("run.lock", "model.txt"):
            assert (laptop.root / run / name).read_bytes() == (
                cluster.root / run / name
            ).read_bytes()
    assert (laptop.root / "results/joblib/sweep.lock").is_file()
    assert not [p for p in os.listdir(laptop.root) if p.startswith(".naga-import")]

    rerun = laptop.naga("rerun", "results/joblib/lr=0.2")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "fetch" not in rerun.stdout  # nothing to fetch: the import brought it
    assert rerun.stdout.rstrip().endswith(
        "reproduced: config identical, no metrics, 1 output file identical"
    )
    verified = laptop.naga("verify", "results/joblib/lr=0.1")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "in another clone: made in" in verified.stdout

    again = laptop.naga("import", str(target))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("imported 0 of 4 runs into ")
    assert "(4 already there, unchanged)" in again.stdout


def test_receipts_only_leaves_the_outputs_out(exported, tmp_path: Path) -> None:
    _, cluster, _ = exported
    target = tmp_path / "receipts.tar"
    result = cluster.naga("export", "results", "--receipts-only", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert "outputs left out (--receipts-only)" in result.stdout
    with tarfile.open(target) as tar:
        names = tar.getnames()
    assert "runs/results/basic/lr=0.1/run.lock" in names
    assert "runs/results/basic/sweep.lock" in names
    assert not [n for n in names if n.endswith("model.txt")]
    assert names[-1] == "naga-export.json"
    refused = cluster.naga("export", "results", "--receipts-only", "-o", str(target))
    assert refused.returncode == 2
    assert "the file exists; choose another name or pass --force" in one_line_error(refused.stderr)


def test_import_refuses_to_overwrite_a_different_run(exported) -> None:
    world, cluster, target = exported
    laptop = laptop_of(world, cluster, "busy laptop")
    other = laptop.root / "results" / "basic" / "lr=0.1"
    other.mkdir(parents=True)
    (other / "run.lock").write_text("naga_lock: 1\nrun_id: mine\nstatus: completed\n")
    before, refs = everything(laptop.root), laptop.refs()
    result = laptop.naga("import", str(target))
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_line_error(result.stderr)
    assert "lr=0.1 already holds a different run (run mine, the file has run " in line
    assert "nothing was written" in line
    assert everything(laptop.root) == before and laptop.refs() == refs


def test_import_refuses_a_file_where_a_directory_goes(exported) -> None:
    world, cluster, target = exported
    laptop = laptop_of(world, cluster, "file in the way")
    (laptop.root / "results").mkdir()
    (laptop.root / "results" / "basic").write_text("my notes\n")
    before = everything(laptop.root)
    result = laptop.naga("import", str(target))
    assert result.returncode == 2
    assert "basic already exists and is not a directory; nothing was written" in (
        one_line_error(result.stderr)
    )
    assert everything(laptop.root) == before and laptop.refs() == {}


def test_import_into_a_clone_of_another_repository_is_refused(exported) -> None:
    world, _, target = exported
    stranger = world.project("stranger")  # same files, but a history of its own
    before = everything(stranger.root)
    result = stranger.naga("import", str(target))
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "is a clone of a different repository than the one the runs in" in line
    assert everything(stranger.root) == before and stranger.refs() == {}


@pytest.mark.parametrize(
    "how", ["not a tar", "truncated", "cut before the manifest", "truncated gzip", "a flipped byte"]
)
def test_a_corrupt_or_truncated_file_writes_nothing(exported, tmp_path: Path, how: str) -> None:
    world, cluster, target = exported
    laptop = laptop_of(world, cluster, f"laptop {how}")
    data = target.read_bytes()
    bad = tmp_path / "bad.tar"
    if how == "not a tar":
        bad.write_bytes(b"these are my notes, not an export\n" * 40)
    elif how == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif how == "cut before the manifest":  # a clean end between two members
        at = data.rindex(b"naga-export.json\0")
        assert at % 512 == 0
        bad.write_bytes(data[:at])
    elif how == "truncated gzip":
        packed = tmp_path / "runs.tar.gz"
        assert cluster.naga("export", "results", "-o", str(packed)).returncode == 0
        bad = tmp_path / "bad.tar.gz"
        bad.write_bytes(packed.read_bytes()[:-200])
    else:
        at = data.index(b"model.txt") + 2048  # inside a member's content, past its header
        bad.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
    before, refs = everything(laptop.root), laptop.refs()
    result = laptop.naga("import", str(bad))
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_line_error(result.stderr)
    assert "nothing was written" in line or "is corrupt" in line, line
    assert everything(laptop.root) == before and laptop.refs() == refs


def _member(tar: tarfile.TarFile, name: str, data: bytes = b"x\n", **fields: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


HOSTILE = {
    "an absolute path": ([("/tmp/naga-evil-abs.txt", {})], "has an absolute path"),
    "a '..' path": ([("runs/../../naga-evil-dotdot.txt", {})], "leads out of the target"),
    "a link out of the target": (
        [
            ("runs/results/link", {"type": tarfile.SYMTYPE, "linkname": "../../../../../.."}),
            ("runs/results/link/naga-evil-link.txt", {}),
        ],
        "is a link pointing outside the runs",
    ),
    "a link to an absolute path": (
        [("runs/results/etc", {"type": tarfile.SYMTYPE, "linkname": "/etc"})],
        "is a link to the absolute path '/etc'",
    ),
    "a hard link": (
        [("runs/results/h", {"type": tarfile.LNKTYPE, "linkname": "/etc/passwd"})],
        "is a hard link",
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_archive_is_refused_and_nothing_is_written_anywhere(
    exported, tmp_path: Path, case: str
) -> None:
    world, cluster, _ = exported
    laptop = laptop_of(world, cluster, f"laptop {case}")
    members, expected = HOSTILE[case]
    bad = tmp_path / "evil.tar"
    with tarfile.open(bad, "w", format=tarfile.PAX_FORMAT) as tar:
        _member(tar, "runs/results/ok/run.lock", b"naga_lock: 1\nrun_id: ok\n")
        for name, fields in members:
            _member(tar, name, **fields)
    before = everything(world.base)
    result = laptop.naga("import", str(bad))
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_line_error(result.stderr)
    assert expected in line and "refusing the whole file (nothing was written)" in line
    assert everything(world.base) == before  # no temp dir left, no run, no escape below
    # ... nor above: where '..' and the link would have led.
    for place in [Path("/tmp"), *laptop.root.parents]:
        assert not list(place.glob("naga-evil-*")), place


def test_export_of_a_directory_without_runs_is_one_line(exported, tmp_path: Path) -> None:
    _, cluster, _ = exported
    (tmp_path / "empty").mkdir()
    result = cluster.naga("export", str(tmp_path / "empty"), "-o", str(tmp_path / "x.tar"))
    assert result.returncode == 2
    assert "so there is nothing to export; pass directories that hold runs" in one_line_error(
        result.stderr
    )
    assert not (tmp_path / "x.tar").exists()
    assert shutil.which("git")
