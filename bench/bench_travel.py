"""Runs that travel: ``naga push``, ``naga export`` and ``naga import`` of 1,000 runs.

    python bench/bench_travel.py [--runs 1000] [--repeats 5]

The runs: a real repository with a bare local remote; three uncommitted edits of the
training script, each run once through ``runlock(repos=['.'])`` (three real snapshots),
then copied to 1,000 run directories (333/333/334 per snapshot) with their own run ids,
written through naga's own writer (so every receipt is sealed as naga seals it). Each
case is a fresh process, as users run it, side by side (interleaved) with the anchor a
user would otherwise type:

- ``naga push results`` to a new bare remote (3 refs to send) vs ``git push origin`` of
  the three snapshot refs named by hand (what docs/git-state.md told users before);
  and the second ``naga push`` (nothing to send);
- ``naga export results --receipts-only -o runs.tar.gz`` vs ``tar -czf`` of the receipts
  plus ``git bundle create`` of the three refs;
- ``naga import runs.tar.gz`` into a fresh clone (never saw the snapshots) vs ``tar -xzf``
  plus ``git fetch`` of the bundle's refs.

Goals (issue 22): push < 5 s; export and import < 10 s each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _timing import machine  # noqa: E402

SCRIPT = """
from pathlib import Path
import sys
from naga import runlock

EDIT = 0
out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
(out / "model.txt").write_text(str(EDIT))
runlock(config={"edit": EDIT, "save_dir": str(out)}, repos=["."])
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def naga(cwd: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "naga", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def timed(cwd: Path, *argv: str) -> float:
    start = time.perf_counter()
    subprocess.run(list(argv), cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def build(base: Path, runs: int) -> tuple[Path, Path, list[str]]:
    """The cluster clone with ``runs`` receipts sharing 3 snapshots; returns (A, remote, refs)."""
    from naga.lock.format import read_lock
    from naga.lock.writer import update_lock

    remote = base / "remote.git"
    git(base, "init", "-q", "--bare", "-b", "main", str(remote))
    cluster = base / "cluster"
    git(base, "clone", "-q", "--no-local", str(remote), str(cluster))
    git(cluster, "config", "user.name", "bench")
    git(cluster, "config", "user.email", "bench@example.invalid")
    (cluster / "train.py").write_text(SCRIPT)
    (cluster / ".gitignore").write_text("results/\n")
    git(cluster, "add", "-A")
    git(cluster, "commit", "-q", "-m", "bench")
    git(cluster, "push", "-q", "origin", "main")
    templates = []
    for edit in (1, 2, 3):
        (cluster / "train.py").write_text(SCRIPT.replace("EDIT = 0", f"EDIT = {edit}"))
        out = cluster / "results" / "template" / str(edit)
        subprocess.run([sys.executable, "train.py", str(out)], cwd=cluster, check=True)
        templates.append(read_lock(out / "run.lock"))
    shutil.rmtree(cluster / "results" / "template")
    for number in range(runs):
        record = dict(templates[number % 3])
        record.pop("digest", None)
        save_dir = cluster / "results" / "sweep" / f"job={number}"
        record["run_id"] = uuid.uuid4().hex
        record["config"] = {**record["config"], "save_dir": str(save_dir)}
        update_lock(save_dir / "run.lock", record, durable=False)
        (save_dir / "model.txt").write_text(str(number % 3))
    refs = sorted({t["repos"]["."]["snapshot"]["ref"] for t in templates})
    return cluster, remote, refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="naga-bench-travel-"))
    try:
        cluster, remote, refs = build(base, args.runs)
        assert len(refs) == 3, refs
        samples: dict[str, list[float]] = {}

        def add(name: str, value: float) -> None:
            samples.setdefault(name, []).append(value)

        for repeat in range(args.repeats):
            # push: a new empty remote each round (main pushed, the snapshots not)
            for name in ("naga", "git"):
                shutil.rmtree(remote)
                git(base, "init", "-q", "--bare", "-b", "main", str(remote))
                git(cluster, "push", "-q", "origin", "main")
                if name == "naga":
                    add("push: naga push (3 refs)", naga(cluster, "push", "results"))
                    add("push again: naga push (nothing)", naga(cluster, "push", "results"))
                else:
                    add(
                        "push: git push of the 3 refs",
                        timed(cluster, "git", "push", "-q", "origin", *refs),
                    )
            # export
            packed = base / f"runs-{repeat}.tar.gz"
            add(
                "export: naga export --receipts-only",
                naga(cluster, "export", "results", "--receipts-only", "-o", str(packed)),
            )
            locks = [str(p.relative_to(cluster)) for p in (cluster / "results").rglob("run.lock")]
            (base / "list.txt").write_text("\n".join(locks) + "\n")
            start = time.perf_counter()
            subprocess.run(
                ["tar", "-czf", str(base / "anchor.tgz"), "-T", str(base / "list.txt")],
                cwd=cluster,
                check=True,
            )
            git(cluster, "bundle", "create", "-q", str(base / "anchor.bundle"), *refs)
            add("export: tar -czf + git bundle create", time.perf_counter() - start)
            # import, each into a fresh clone that never saw the snapshots
            for name in ("naga", "anchor"):
                laptop = base / f"laptop-{repeat}-{name}"
                git(base, "clone", "-q", "--no-local", str(remote), str(laptop))
                if name == "naga":
                    add("import: naga import", naga(laptop, "import", str(packed)))
                    assert (laptop / "results" / "sweep" / "job=0" / "run.lock").is_file()
                else:
                    start = time.perf_counter()
                    subprocess.run(
                        ["tar", "-xzf", str(base / "anchor.tgz")], cwd=laptop, check=True
                    )
                    git(
                        laptop,
                        "fetch",
                        "-q",
                        str(base / "anchor.bundle"),
                        *[f"{r}:{r}" for r in refs],
                    )
                    add("import: tar -xzf + git fetch of the bundle", time.perf_counter() - start)
                shutil.rmtree(laptop)
            packed.unlink()
        print(
            f"bench_travel: {args.runs} runs sharing 3 snapshots; {machine()}; "
            f"medians of {args.repeats}"
        )
        medians = {name: statistics.median(values) for name, values in samples.items()}
        for name, value in medians.items():
            print(f"  {name:<45} {value:7.3f} s")
        pairs = [
            ("push: naga push (3 refs)", "push: git push of the 3 refs"),
            ("export: naga export --receipts-only", "export: tar -czf + git bundle create"),
            ("import: naga import", "import: tar -xzf + git fetch of the bundle"),
        ]
        for ours, anchor in pairs:
            ratio = medians[ours] / medians[anchor]
            print(f"  ratio {ours.split(':')[0]:<8} naga / anchor = {ratio:.2f}x")
        size = os.path.getsize(base / "anchor.tgz")
        print(f"  anchor tarball of the receipts: {size / 1024:.0f} KiB")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
