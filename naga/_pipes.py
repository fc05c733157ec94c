"""Output into a pipe whose reader has gone (``naga ls | head -2``) ends quietly.

Instead of Python's ``BrokenPipeError`` noise (exit 120), naga ends as ``git log | head``
does: no message, exit status 141 (128 + SIGPIPE, what ``set -o pipefail`` scripts expect).
Only the two entry points (``naga`` and a ``@clicfg`` script) use this: SIGPIPE is not reset
to its default, which would kill the process silently on any broken socket a user's
function writes to.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["EXIT_BROKEN_PIPE", "quiet_broken_pipe"]

#: 128 + SIGPIPE: the exit status of a command whose reader closed the pipe.
EXIT_BROKEN_PIPE = 141


@contextlib.contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """Turn a closed stdout pipe inside the block into a quiet ``SystemExit(141)``.

    Whatever the block leaves buffered is flushed at its end, inside the guard: a reader
    that is gone by then is met here rather than during the interpreter's exit.

    Raises:
        SystemExit: With code 141 when stdout's reader closed the pipe.
    """
    try:
        try:
            yield
        finally:
            _flush_stdout()
    except BrokenPipeError:
        _discard_stdout()
        raise SystemExit(EXIT_BROKEN_PIPE) from None


def _flush_stdout() -> None:
    stdout = sys.stdout
    if stdout is not None and not stdout.closed:
        stdout.flush()


def _discard_stdout() -> None:
    """Point stdout's file descriptor at /dev/null: the buffered rest goes nowhere at exit."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
