"""``unsafe_debug``: post-mortem debugging of a failing run, with its locals kept in ``ctx``.

Inert unless ``NAGA_DEBUG`` is ``1``/``true``/``yes`` (``--debug`` sets it). It picks the
deepest frame of the user's code, then opens IPython's (else pdb's) post-mortem debugger in
a terminal, or prints the frame's locals to stderr anywhere else (never waiting for input);
the exception then propagates unchanged. IPython and ``pdb`` are imported only when used.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

if TYPE_CHECKING:
    from types import FrameType, TracebackType

__all__ = [
    "DebugContext",
    "FrameInfo",
    "build_context",
    "debug_enabled",
    "debugged",
    "post_mortem",
    "unsafe_debug",
]

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

ENV_VAR = "NAGA_DEBUG"
_TRUTHY = frozenset({"1", "true", "yes"})
# Set on an exception once handled, so nested decorated calls debug it only once.
_HANDLED_ATTR = "__naga_debugged__"
_SUMMARY_MAX_NAMES = 30
_SUMMARY_MAX_CHARS = 100


def debug_enabled() -> bool:
    """Tell whether debugging is switched on right now.

    Returns:
        True when the ``NAGA_DEBUG`` environment variable is ``1``, ``true`` or ``yes``
        (case-insensitive).
    """
    value = os.environ.get(ENV_VAR)
    return value is not None and value.strip().lower() in _TRUTHY


class FrameInfo(NamedTuple):
    """One frame of the failing traceback, as kept in ``ctx.frames``."""

    filename: str
    lineno: int
    function: str
    locals: dict[str, Any]


class DebugContext(dict[str, Any]):
    """The locals of the chosen (deepest user) frame, plus the rest of the traceback.

    It is a plain ``dict`` of the chosen frame's locals (``ctx['cfg']``, ``ctx['a']``);
    the attributes reach further:

    Attributes:
        frames: Every frame of the traceback, outermost first, as ``FrameInfo``
            ``(filename, lineno, function, locals)``.
        index: Position of the chosen frame in ``frames``.
        exception: The exception that was raised.
    """

    frames: list[FrameInfo]
    index: int
    exception: BaseException

    def __init__(self, frames: list[FrameInfo], index: int, exception: BaseException) -> None:
        super().__init__(frames[index].locals)
        self.frames = frames
        self.index = index
        self.exception = exception

    def frame(self, i: int) -> dict[str, Any]:
        """Return the locals of frame ``i`` of the traceback (``-1`` is the deepest).

        Args:
            i: Index into ``frames``, outermost first; negative indexes count from the
                deepest frame.

        Returns:
            That frame's locals.
        """
        return self.frames[i].locals

    @property
    def where(self) -> str:
        """``file:line in function`` of the chosen frame."""
        info = self.frames[self.index]
        return f"{info.filename}:{info.lineno} in {info.function}"


@overload
def unsafe_debug(fn: F, /) -> F: ...
@overload
def unsafe_debug(fn: None = None, /) -> Callable[[F], F]: ...
def unsafe_debug(fn: F | None = None, /) -> F | Callable[[F], F]:
    """Open a post-mortem debugger at the failing user frame when ``NAGA_DEBUG`` is set.

    Works bare (``@unsafe_debug``) or called (``@unsafe_debug()``) and stacks above
    ``@clicfg``. Without ``NAGA_DEBUG=1`` (or ``--debug`` on a clicfg script) it only
    adds a ``try``/``except`` around the call: same result, same exception, same exit
    code. ``KeyboardInterrupt`` and ``SystemExit`` always pass through untouched.

    Args:
        fn: The function to wrap (sync or ``async``).

    Returns:
        The wrapped function, with the same name, docstring and signature.
    """
    if fn is None:
        return unsafe_debug

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                # The flag is read here, not at entry: clicfg's --debug sets it mid-call.
                if debug_enabled():
                    post_mortem(exc)
                raise

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # IPython and pytest leave this frame out of tracebacks
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            # The flag is read here, not at entry: clicfg's --debug sets it mid-call.
            if debug_enabled():
                post_mortem(exc)
            raise

    return wrapper


def debugged(call: Callable[[], R], *, skip: tuple[type[BaseException], ...] = ()) -> R:
    """Return ``call()``; if it raises while debugging is on, :func:`post_mortem` first.

    ``@clicfg`` runs every script's function through this, so ``--debug`` needs no
    ``@unsafe_debug``. Stacked under ``@unsafe_debug``, an exception is debugged once.

    Args:
        skip: Exception types never debugged (a command line's own one-line errors).

    Returns:
        ``call()``'s result; its exception is re-raised unchanged.
    """
    try:
        return call()
    except Exception as exc:
        if debug_enabled() and not isinstance(exc, skip):
            post_mortem(exc)
        raise


# --- what happens on an exception -------------------------------------------------------


def post_mortem(exc: BaseException) -> None:
    """Debug ``exc`` now: a banner, then the debugger (terminal) or the locals (batch).

    What ``unsafe_debug`` does when the function it wraps raises, for callers that catch
    the exception themselves (``@clicfg``'s ``--debug``). An exception is debugged once,
    however many of them see it; this never raises itself.
    """
    if getattr(exc, _HANDLED_ATTR, False):
        return
    with contextlib.suppress(AttributeError, TypeError):  # exotic exception types
        setattr(exc, _HANDLED_ATTR, True)
    try:
        ctx, target = build_context(exc)
    except Exception as err:  # pragma: no cover - a broken debug aid must not mask exc
        _say(f"naga.unsafe_debug: could not inspect the traceback ({err!r})")
        return
    interactive = _terminal() or _jupyter_shell() is not None
    example = "cfg" if "cfg" in ctx else next((k for k in ctx if not k.startswith("_")), "cfg")
    lines = [
        f"naga.unsafe_debug: {_one_line(exc)}",
        f"  at {ctx.where}",
    ]
    hint = f"  ctx holds the locals, e.g. ctx[{example!r}]"
    if interactive:
        lines.append(f"{hint} (after you quit the debugger with q)")
    else:
        lines.append(f"{hint}; no debugger: stdin/stdout is not a terminal. Locals:")
        lines.extend(_summary(ctx))
    _say("\n".join(lines))
    if interactive:
        try:
            _run_debugger(exc, target)
        except (Exception, KeyboardInterrupt) as err:
            # e.g. a notebook run headless refuses input(); the user's exception matters more.
            _say(f"naga.unsafe_debug: the debugger failed ({_one_line(err)}); re-raising.")
    _inject(ctx)


def build_context(exc: BaseException) -> tuple[DebugContext, FrameType]:
    """Collect the traceback of ``exc`` and choose its deepest user frame.

    Returns:
        The ``DebugContext`` (locals of the chosen frame) and the chosen frame itself.
    """
    frames: list[FrameType] = []
    infos: list[FrameInfo] = []
    for tb in _walk(exc.__traceback__):
        frame = tb.tb_frame
        frames.append(frame)
        # A copy: the debugger and later code must not change what ctx shows.
        infos.append(
            FrameInfo(
                frame.f_code.co_filename, tb.tb_lineno, frame.f_code.co_name, dict(frame.f_locals)
            )
        )
    if not frames:  # pragma: no cover - an exception raised and caught has a traceback
        raise ValueError("the exception has no traceback")
    index = _choose(infos)
    return DebugContext(infos, index, exc), frames[index]


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _choose(infos: list[FrameInfo]) -> int:
    """Index of the deepest user frame; failing that, the deepest frame outside naga."""
    internal = _internal_dirs()
    # Second pass for user code that is itself installed (a non-editable package).
    for dirs, packages in ((internal, True), (internal[:2], False)):
        for i in range(len(infos) - 1, -1, -1):
            if not _under(infos[i].filename, dirs, packages=packages):
                return i
    return len(infos) - 1


def _under(filename: str, dirs: tuple[str, ...], *, packages: bool) -> bool:
    """True when ``filename`` lies in one of ``dirs`` (or in any installed package)."""
    if filename.startswith("<frozen "):
        return True
    # Relative names (``python process.py``) and ``<ipython-input-...>`` cells are user code.
    path = os.path.normcase(filename)
    if path.startswith(dirs):
        return True
    parts = path.split(os.sep)  # noqa: PTH206 - plain strings: no Path objects per frame
    return packages and ("site-packages" in parts or "dist-packages" in parts)


@functools.cache
def _internal_dirs() -> tuple[str, ...]:
    """Directories whose frames are never "user code" (naga's own two first)."""
    import sysconfig
    from pathlib import Path

    here = Path(__file__).absolute().parent
    dirs = [here, here.parent / "hydra_plugins" / "naga_runlock"]
    dirs += [Path(p) for k in ("stdlib", "platstdlib") if (p := sysconfig.get_paths().get(k))]
    dirs.append(Path(os.__file__).parent)
    # Only packages already imported can own frames; looking them up costs no import.
    for name in ("hydra", "omegaconf", "IPython", "hydra_plugins"):
        module = sys.modules.get(name)
        dirs += [Path(location) for location in getattr(module, "__path__", None) or []]
    # Compared as strings with a trailing separator, so "/x/naga" does not match "/x/nagafoo".
    return tuple(os.path.normcase(os.path.normpath(d.absolute())) + os.sep for d in dirs)


# --- terminal, debugger and sessions ------------------------------------------------------


def _terminal() -> bool:
    """True when a human can answer a prompt: both stdin and stdout are TTYs."""
    try:
        return bool(sys.stdin and sys.stdin.isatty() and sys.stdout and sys.stdout.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def _ipython_shell() -> Any:
    """The running IPython shell, if any, without importing IPython when it is absent."""
    if sys.modules.get("IPython") is None:  # never imported, or blocked with None
        return None
    from IPython.core.getipython import get_ipython

    shell = get_ipython()
    # The shell IPython's debugger had to create inside plain Python is not a session.
    return None if shell is not None and shell is _BORROWED_SHELL.get("shell") else shell


def _jupyter_shell() -> Any:
    """The running Jupyter kernel shell (its stdin is not a TTY, yet a human is there)."""
    shell = _ipython_shell()
    if shell is not None and "ipykernel" in type(shell).__module__:
        return shell
    return None


def _run_debugger(exc: BaseException, target: FrameType) -> None:
    """IPython's post-mortem debugger (``pdb`` without IPython), starting at ``target``."""
    shell = _ipython_shell()
    if shell is not None:  # ipython -i / Jupyter: the debugger that session is set up for
        debugger = _at_frame(shell.debugger_cls)(target)
    else:
        base: type
        try:
            from IPython.core.debugger import Pdb as base
        except ImportError:
            from pdb import Pdb as base
        with _plain_python_kept():
            debugger = _at_frame(base)(target, completekey="tab")
    debugger.reset()
    # A traceback rather than the exception: the chosen frame is looked up in it.
    debugger.interaction(None, exc.__traceback__)


# The IPython shell naga's debugger created in plain Python (IPython's Pdb needs one).
_BORROWED_SHELL: dict[str, Any] = {}


@contextlib.contextmanager
def _plain_python_kept() -> Iterator[None]:
    """Undo what creating IPython's debugger does to a plain ``python -i`` session.

    Without a running shell, IPython's ``Pdb`` creates one, which sets ``sys.ps1``
    (the ``>>>`` prompt would become ``In :``) and adds names to ``builtins``.
    """
    import builtins

    prompts = {name: getattr(sys, name) for name in ("ps1", "ps2") if hasattr(sys, name)}
    names = set(vars(builtins))
    try:
        yield
    finally:
        if sys.modules.get("IPython") is not None:
            from IPython.core.getipython import get_ipython

            _BORROWED_SHELL.setdefault("shell", get_ipython())
        for name in ("ps1", "ps2"):
            if name in prompts:
                setattr(sys, name, prompts[name])
            elif hasattr(sys, name):
                delattr(sys, name)
        for name in set(vars(builtins)) - names:
            delattr(builtins, name)


@functools.cache
def _at_frame(base: type) -> type:
    """A subclass of the debugger ``base`` whose post-mortem starts at a given frame.

    ``pdb`` always starts at the deepest frame of the traceback; this moves the cursor
    to the chosen frame right after the stack is built, as ``up`` would.
    """

    class AtFrame(base):
        def __init__(self, target: FrameType, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._naga_target: FrameType | None = target

        def setup(self, f: Any, tb: Any) -> Any:
            result = super().setup(f, tb)
            target, self._naga_target = self._naga_target, None  # only the first stop
            for i, (frame, _) in enumerate(self.stack):
                if target is not None and frame is target:
                    self.curindex = i
                    self.curframe = target
                    # Python < 3.13 caches the locals pdb evaluates in; later versions
                    # read frame.f_locals (and may define a read-only property).
                    if "curframe_locals" in vars(self):
                        self.curframe_locals = target.f_locals
                    break
            return result

    AtFrame.__name__ = AtFrame.__qualname__ = f"NagaAtFrame{base.__name__}"
    return AtFrame


def _inject(ctx: DebugContext) -> None:
    """Make ``ctx`` a name in the user's interactive session, if there is one."""
    shell = _ipython_shell()
    if shell is not None:
        shell.user_ns["ctx"] = ctx
        return
    if sys.flags.interactive or sys.flags.inspect or hasattr(sys, "ps1"):
        main = sys.modules.get("__main__")
        if main is not None:
            main.ctx = ctx  # type: ignore[attr-defined]


# --- text -----------------------------------------------------------------------------


def _say(text: str) -> None:
    with contextlib.suppress(AttributeError, OSError, ValueError):  # stderr closed
        print(text, file=sys.stderr, flush=True)


def _one_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    first = message[0] if message else ""
    text = f"{type(exc).__qualname__}: {first}" if first else type(exc).__qualname__
    return _shorten(text, 200)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _summary(ctx: DebugContext) -> list[str]:
    """``name: repr`` lines, one per local, each shortened and their number capped."""
    import reprlib

    short = reprlib.Repr()
    short.maxstring = short.maxother = _SUMMARY_MAX_CHARS
    names = [name for name in ctx if not name.startswith("__")]
    lines = []
    for name in names[:_SUMMARY_MAX_NAMES]:
        try:
            text = short.repr(ctx[name])
        except Exception as err:  # a user __repr__ may fail; the summary must not
            text = f"<repr failed: {type(err).__name__}>"
        lines.append("    " + _shorten(f"{name}: {' '.join(text.split())}", _SUMMARY_MAX_CHARS))
    if len(names) > _SUMMARY_MAX_NAMES:
        lines.append(f"    ... and {len(names) - _SUMMARY_MAX_NAMES} more (see ctx)")
    if not names:
        lines.append("    (no locals)")
    return lines
