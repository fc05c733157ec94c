"""A typo in --task_to or --tasks-key is a one-line did-you-mean, as an override typo is."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--tasks", "tasks.txt", "--task_to", "paramm"],
            "--task_to paramm: no such key in the config. Did you mean 'param'?",
        ),
        (
            ["--tasks", "tasks.yaml", "--task_to", "paramm"],
            "--task_to paramm: no such key in the config. Did you mean 'param'?",
        ),
        (
            ["--tasks-key", "tasks", "--task_to", "nam"],
            "--task_to nam: no such key in the config. Did you mean 'name'?",
        ),
        (
            ["--tasks-key", "taskss"],
            "--tasks-key taskss: no such key in the config. Did you mean 'tasks'?",
        ),
    ],
)
def test_task_key_typos_fail_before_any_job_with_a_suggestion(
    sweep_project, run_py, args, expected
):
    (sweep_project / "tasks.txt").write_text("3\n4\n")
    (sweep_project / "tasks.yaml").write_text("- {a: 1}\n")
    result = run_py("job.py", *args, cwd=sweep_project)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("job.py: error: " + expected), lines[0]
    # the valid choices are the user's keys, not Hydra's own config tree
    assert "Available keys: name, param, save_dir, tasks." in lines[0]
    assert "job param=" not in result.stdout
    assert not (sweep_project / "results").exists()


def test_task_to_plus_key_adds_a_key_as_an_override_does(sweep_project, run_py):
    (sweep_project / "tasks.txt").write_text("3\n")
    result = run_py("job.py", "--tasks", "tasks.txt", "--task_to", "+seed", cwd=sweep_project)
    assert result.returncode == 0, result.stderr
