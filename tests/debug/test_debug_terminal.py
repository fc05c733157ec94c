"""``unsafe_debug`` driven as users drive it: scripts in subprocesses and real terminals.

The terminal tests run real IPython and real Python through a pseudo-terminal (pexpect),
answer the debugger prompt and then read ``ctx`` in the interactive session.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest
from helpers import copy_app

IPYTHON = str(Path(sys.executable).with_name("ipython"))
TIMEOUT = 60  # generous: the test machine is shared and loaded
DEBUGGER = r"ipdb> |\(Pdb\) "
SESSION = r"In \[\d+\]: |>>> "
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]|\x1b[=>]|\r")

#: The scripts users debug (tests/apps/debug); each test runs a copy named process.py.
README_SCRIPT = "debug/readme.py"
PLAIN_SCRIPT = "debug/plain.py"
#: A @clicfg script without @unsafe_debug: --debug alone opens the same post-mortem.
CLICFG_SCRIPT = "debug/clicfg_plain.py"


def _write(directory: Path, app: str, name: str = "process.py") -> Path:
    return copy_app(app, directory / name)


def _spawn(argv: list[str], cwd: Path, **env: str) -> pexpect.spawn:
    full_env = {**os.environ, "TERM": "dumb", "IPYTHONDIR": str(cwd / ".ipython"), **env}
    return pexpect.spawn(
        argv[0], argv[1:], cwd=str(cwd), env=full_env, encoding="utf-8",
        timeout=TIMEOUT, dimensions=(50, 200),
    )  # fmt: skip


def _until(child: pexpect.spawn, pattern: str) -> str:
    """Wait for ``pattern``; return the text printed before it, without ANSI escapes."""
    child.expect(pattern)
    return ANSI.sub("", child.before)


def _finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def _ipython(script: Path, *args: str) -> list[str]:
    return [
        IPYTHON, "--no-banner", "--colors=NoColor", "--HistoryManager.hist_file=:memory:",
        "-i", str(script), *args,
    ]  # fmt: skip


def test_readme_workflow_in_ipython(tmp_path: Path) -> None:
    """`NAGA_DEBUG=1 ipython -i process.py`: ipdb at the failing line, then ctx in IPython."""
    script = _write(tmp_path, README_SCRIPT)
    child = _spawn(_ipython(script), tmp_path, NAGA_DEBUG="1")
    banner = _until(child, DEBUGGER)
    assert "naga.unsafe_debug: ZeroDivisionError: division by zero" in banner
    assert f"at {script}:16 in main" in banner
    assert "ctx holds the locals, e.g. ctx['cfg']" in banner
    assert "process.py(16)main()" in banner
    child.sendline("p a")
    assert _until(child, DEBUGGER).splitlines()[-1] == "0"
    child.sendline("q")
    traceback = _until(child, SESSION)
    assert "ZeroDivisionError" in traceback
    child.sendline("print(ctx['a'], ctx['cfg'].param, type(ctx).__name__)")
    assert "0 7 DebugContext" in _until(child, SESSION)
    child.sendline("exit()")
    _finish(child)


def test_debug_flag_of_clicfg_in_ipython(tmp_path: Path) -> None:
    """`ipython -i process.py -- --debug` works without the environment variable."""
    script = _write(tmp_path, README_SCRIPT)
    child = _spawn(_ipython(script, "--", "--debug"), tmp_path)
    assert "naga.unsafe_debug: ZeroDivisionError" in _until(child, DEBUGGER)
    child.sendline("q")
    _until(child, SESSION)
    child.sendline("print(ctx['cfg'].param + 1)")
    assert "8" in _until(child, SESSION).split()
    child.sendline("exit()")
    _finish(child)


def test_debug_flag_of_a_plain_clicfg_script_in_a_terminal(tmp_path: Path) -> None:
    """`python process.py --debug`, no @unsafe_debug: debugger at the user's line, exit 1."""
    script = _write(tmp_path, CLICFG_SCRIPT)
    child = _spawn([sys.executable, str(script), "--debug"], tmp_path)
    banner = _until(child, DEBUGGER)
    assert "naga.unsafe_debug: ZeroDivisionError: division by zero" in banner
    assert f"at {script}:14 in main" in banner
    assert "process.py(14)main()" in banner
    child.sendline("p a, cfg.param")
    assert "(0, 7)" in _until(child, DEBUGGER)
    child.sendline("q")
    child.expect(pexpect.EOF)
    assert "ZeroDivisionError: division by zero" in ANSI.sub("", child.before)
    child.close()
    assert child.exitstatus == 1
    assert "\nstatus: failed\n" in (tmp_path / "out" / "run.lock").read_text()


def test_debug_flag_of_a_plain_clicfg_script_in_ipython(tmp_path: Path) -> None:
    """`ipython -i process.py -- --debug`: after the debugger, ctx in the session."""
    script = _write(tmp_path, CLICFG_SCRIPT)
    child = _spawn(_ipython(script, "--", "--debug"), tmp_path)
    assert "naga.unsafe_debug: ZeroDivisionError" in _until(child, DEBUGGER)
    child.sendline("q")
    _until(child, SESSION)
    child.sendline("print(ctx['a'], ctx['cfg'].param, type(ctx).__name__)")
    assert "0 7 DebugContext" in _until(child, SESSION)
    child.sendline("exit()")
    _finish(child)


def test_python_dash_i(tmp_path: Path) -> None:
    """`python -i`: ctx lands in __main__, the >>> prompt stays, a second failure works too."""
    script = _write(tmp_path, PLAIN_SCRIPT)
    child = _spawn([sys.executable, "-i", str(script)], tmp_path, NAGA_DEBUG="1")
    assert "process.py(26)main()" in _until(child, DEBUGGER)
    child.sendline("p a, cfg.param")
    assert "(0, 3)" in _until(child, DEBUGGER)
    child.sendline("q")
    assert "ZeroDivisionError" in _until(child, r">>> ")
    child.sendline("ctx['a'], ctx['cfg'].param")
    assert "(0, 3)" in _until(child, r">>> ")
    # Again from the prompt: the debugger opens once more and ctx is replaced.
    child.sendline("ctx['a'] = 'old'")
    _until(child, r">>> ")
    child.sendline("main(Config(param=3))")
    _until(child, DEBUGGER)
    child.sendline("q")
    _until(child, r">>> ")
    child.sendline("ctx['a']")
    assert _until(child, r">>> ").splitlines()[-1] == "0"
    child.sendline("exit()")
    _finish(child)


def test_deepest_user_frame_is_where_the_debugger_starts(tmp_path: Path) -> None:
    """A failure inside json, called by a helper: the debugger opens in the helper."""
    script = _write(tmp_path, PLAIN_SCRIPT)
    child = _spawn([sys.executable, "-i", str(script), "deep"], tmp_path, NAGA_DEBUG="1")
    before = _until(child, DEBUGGER)
    assert "naga.unsafe_debug: JSONDecodeError: Expecting property name" in before
    assert f"at {script}:14 in helper" in before
    assert "process.py(14)helper()" in before
    child.sendline("p inner")
    assert "'{'" in _until(child, DEBUGGER)
    child.sendline("q")
    _until(child, r">>> ")
    child.sendline("ctx['inner'], ctx.frames[ctx.index - 1].locals['outer'], len(ctx.frames) > 3")
    assert "('{', 'kept', True)" in _until(child, r">>> ")
    child.sendline("exit()")
    _finish(child)


def test_plain_pdb_without_ipython(tmp_path: Path) -> None:
    """IPython not importable: the standard pdb post-mortem at the same frame."""
    script = _write(tmp_path, PLAIN_SCRIPT)
    child = _spawn([sys.executable, "-i", str(script), "no-ipython"], tmp_path, NAGA_DEBUG="1")
    before = _until(child, r"\(Pdb\) ")
    assert "process.py(26)main()" in before
    child.sendline("p a")
    assert _until(child, r"\(Pdb\) ").splitlines()[-1] == "0"
    child.sendline("q")
    _until(child, r">>> ")
    child.sendline("ctx['a']")
    assert _until(child, r">>> ").splitlines()[-1] == "0"
    child.sendline("exit()")
    _finish(child)


def test_terminal_without_interactive_session_exits_with_1(tmp_path: Path) -> None:
    """`python process.py` in a terminal: debugger, then the usual traceback and exit code."""
    script = _write(tmp_path, PLAIN_SCRIPT)
    child = _spawn([sys.executable, str(script)], tmp_path, NAGA_DEBUG="1")
    _until(child, DEBUGGER)
    child.sendline("q")
    child.expect(pexpect.EOF)
    assert "ZeroDivisionError: division by zero" in ANSI.sub("", child.before)
    child.close()
    assert child.exitstatus == 1


@pytest.fixture
def run_script(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(app: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        script = _write(tmp_path, app)
        return subprocess.run(
            [sys.executable, str(script), *args],
            cwd=tmp_path,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,  # the point: it must never wait for input
            check=False,
        )

    return run


def test_no_tty_prints_locals_and_exits(
    run_script: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = run_script(PLAIN_SCRIPT, NAGA_DEBUG="1")
    assert result.returncode == 1
    err = result.stderr
    assert err.startswith("naga.unsafe_debug: ZeroDivisionError: division by zero\n")
    assert "no debugger: stdin/stdout is not a terminal" in err
    assert "    cfg: Config(param=3)\n    a: 0\n" in err
    assert err.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "Pdb" not in err + result.stdout


def test_no_tty_with_clicfg_debug_flag(
    run_script: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    result = run_script(README_SCRIPT, "--debug", "+save_dir=out")
    assert result.returncode == 1
    assert "naga.unsafe_debug: ZeroDivisionError: division by zero" in result.stderr
    assert "    a: 0" in result.stderr
    assert "    cfg: {'param': 7, 'save_dir': 'out'}" in result.stderr
    # clicfg recorded the failure before the exception reached the debugger.
    lock = (tmp_path / "out" / "run.lock").read_text()
    assert "\nstatus: failed\n" in lock


@pytest.mark.parametrize(
    ("args", "cfg"),
    [
        (["--debug"], "{'param': 7, 'save_dir': 'out'}"),
        (["--debug", "-m", "param=7,8"], "{'param': 7, 'save_dir': 'out/param=7'}"),
    ],
    ids=["one run", "a sweep"],
)
def test_no_tty_debug_flag_of_a_plain_clicfg_script_prints_the_locals(
    run_script: Callable[..., subprocess.CompletedProcess[str]], args: list[str], cfg: str
) -> None:
    result = run_script(CLICFG_SCRIPT, *args)
    assert result.returncode == 1
    err = result.stderr
    assert "naga.unsafe_debug: ZeroDivisionError: division by zero\n  at " in err
    assert "process.py:14 in main\n" in err
    assert "no debugger: stdin/stdout is not a terminal. Locals:" in err
    assert f"    cfg: {cfg}\n    a: 0\n" in err
    assert err.rstrip().endswith("ZeroDivisionError: division by zero")
    assert err.count("naga.unsafe_debug:") == 1


def test_plain_clicfg_script_without_debug_is_a_plain_traceback(
    run_script: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = run_script(CLICFG_SCRIPT)
    assert result.returncode == 1
    assert "naga.unsafe_debug" not in result.stderr
    assert result.stderr.startswith("Traceback (most recent call last):")


def test_env_unset_is_a_plain_traceback(
    run_script: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    decorated = run_script(PLAIN_SCRIPT)
    undecorated = run_script(PLAIN_SCRIPT, "undecorated")
    assert decorated.returncode == undecorated.returncode == 1
    assert "naga.unsafe_debug" not in decorated.stderr
    assert decorated.stderr.startswith("Traceback (most recent call last):")
    assert decorated.stderr.splitlines()[-1] == undecorated.stderr.splitlines()[-1]


def test_readme_script_without_debug_is_untouched(
    run_script: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = run_script(README_SCRIPT, NAGA_DEBUG="0")
    assert result.returncode == 1
    assert "naga.unsafe_debug" not in result.stderr
    assert result.stderr.splitlines()[-1] == "ZeroDivisionError: division by zero"
