"""The small exception tree of naga.

Every error a user can cause (a wrong flag, key, file or path) is a ``NagaError``
whose message is one line: what was wrong, with which input, and how to fix it.
The command line prints that line and exits with code 2, without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class NagaError(Exception):
    """Base class of every error naga raises on purpose.

    The message is one line whatever it quotes: a line break inside it (a directory named
    so) is kept escaped as ``\\n``.
    """

    exit_code = 2

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(escape_newlines(str(message)), *args)


class UsageError(NagaError, ValueError):
    """A command-line flag or argument is wrong."""


class ConfigError(NagaError, ValueError):
    """A config class, file, section, key, override or option value is wrong."""


class LockError(NagaError, RuntimeError):
    """A run.lock could not be read, assembled or written."""


class BusyError(LockError):
    """A run's save_dir holds the run.lock of another run that is still running."""


class RepoError(LockError):
    """A path given in ``repos=`` is not a usable git repository."""


class DataError(LockError):
    """A path given in ``data=`` cannot be hashed."""


class LineageError(LockError):
    """An upstream stage (``prevs=``) is missing or forms a cycle."""


class TrackingError(NagaError, RuntimeError):
    """Logging a run directory to MLflow failed."""


class MetricsError(LockError, ValueError):
    """A metric given to ``runlock(metrics=...)`` is not a real number, or its file is unusable."""


class DependencyError(NagaError, ImportError):
    """An optional dependency (an extra such as ``naga[results]``) is not installed."""


def did_you_mean(word: str, choices: Iterable[str], *, what: str = "choices") -> str:
    """Return a ``" Did you mean 'x'?"``/available-choices suffix for an error message.

    Args:
        word: The unknown name the user typed.
        choices: The valid names.
        what: How to call the valid names in the message (e.g. "keys", "experiments").

    Returns:
        A string starting with a space, or an empty string when there are no choices.
    """
    import difflib

    options = sorted(set(choices))
    if not options:
        return ""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(options[:20]) + (", ..." if len(options) > 20 else "")
    return f"{hint} Available {what}: {shown}."


def escape_newlines(text: str) -> str:
    """``text`` with line breaks shown as ``\\n`` and ``\\r``: one line whatever it holds."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, else its type's name.

    Library errors (OmegaConf, Hydra, MLflow, SQLAlchemy) often span several lines; a
    one-line naga error quotes only the first.
    """
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
