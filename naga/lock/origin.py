"""Which code a run runs: the user's file and function, decided where the run is launched.

In a loky worker or a submitit job, ``__main__`` is the launcher's bootstrap and a function
pickled by value has lost its file name (cloudpickle replaces ``co_filename``), so the
origin is taken in the launching process and travels with the job; :func:`origin_of` only
falls back to what the current process shows. An *installed* file never names a
repository: a venv inside some git work tree must not look like the code that ran.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naga.lock.git import find_repo_root
from naga.lock.record import abspath

__all__ = ["Origin", "installed_file", "origin_of", "repo_root_of", "user_command"]

#: Where a notebook front end tells the kernel which notebook it runs: VS Code sets the
#: first in the user namespace; ipykernel copies jupyter-server's JPY_SESSION_NAME into the
#: second.
_NOTEBOOK_NAMES = ("__vsc_ipynb_file__", "__session__")


@dataclass(frozen=True)
class Origin:
    """The code of a run.

    Attributes:
        script: The user's file (absolute), or ``None`` when there is none (a REPL, ``-c``,
            a notebook whose front end does not say which).
        function: Qualified name of the user's function, or ``None``.
        module: The importable module name when the code is a module of a package
            (``python -m pkg.mod``, a console script), else ``None``.
        notebook: The code was run from a notebook cell.
    """

    script: Path | None
    function: str | None = None
    module: str | None = None
    notebook: bool = False


def origin_of(function: Callable[..., Any] | None = None) -> Origin:
    """Tell which code ``function`` (or, without one, the running program) is.

    Call it in the process that launches the run: in a launcher's worker the answer can
    only be as good as what that worker shows.

    Args:
        function: The user's function (decorators are unwrapped through ``__wrapped__``).

    Returns:
        The function's file and name, its module when importable, and whether it came from
        a notebook.
    """
    func = _unwrap(function)
    main = sys.modules.get("__main__")
    qualname = getattr(func, "__qualname__", None) if func is not None else None
    module_name = getattr(func, "__module__", None) if func is not None else "__main__"
    script = _code_file(func)
    if script is None and module_name not in (None, "__main__"):
        script = _real_file(getattr(sys.modules.get(module_name), "__file__", None))
    notebook = _in_notebook(main) and (script is None or _is_cell_file(func))
    if notebook:
        script = _notebook_path(main)
    elif script is None and module_name == "__main__":
        script = main_script()
    return Origin(
        script=script,
        function=qualname,
        module=_module_name(module_name, main) if not notebook else None,
        notebook=notebook,
    )


def user_command() -> list[str]:
    """The command line as the user typed it after ``python``: run.lock's ``command``.

    ``sys.argv`` as it is, except for ``python -m pkg.mod ARGS``, where Python replaced
    ``-m pkg.mod`` with the module's file: that is given back as ``[-m, pkg.mod, ARGS...]``
    (``-m pkg`` for a package's ``__main__``). Like :func:`origin_of`, call it where the
    run is launched: in a launcher's worker ``sys.argv`` is the launcher's bootstrap.
    """
    argv = list(sys.argv)
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if not argv or not isinstance(name, str) or not name or name == "__main__":
        return argv
    # Set only for `python -m`: a script run by path has no __spec__ (None).
    module = name.removesuffix(".__main__")
    return ["-m", module, *argv[1:]]


def main_script() -> Path | None:
    """The ``__main__`` file the program was started with, or ``None``.

    ``None`` too when ``__main__`` is an installed file (a launcher's bootstrap such as
    loky's or submitit's): that is never the user's script.
    """
    path = _real_file(getattr(sys.modules.get("__main__"), "__file__", None))
    return None if path is None or installed_file(path) else path


def repo_root_of(script: Path | None) -> Path | None:
    """The git work tree holding the user's ``script``; ``None`` for an installed file."""
    if script is None or installed_file(script):
        return None
    return find_repo_root(script, resolve=False)


def installed_file(path: Path) -> bool:
    """True when ``path`` belongs to the interpreter (stdlib, site-packages, its scripts)."""
    text = os.path.realpath(path)
    return any(text.startswith(root) for root in _installed_roots())


_ROOTS: tuple[str, ...] | None = None


def _installed_roots() -> tuple[str, ...]:
    # Built from sys's own fields: sysconfig and site would cost ~20 ms at every run start.
    global _ROOTS
    if _ROOTS is None:
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        roots = {str(Path(os.__file__).parent)}  # the standard library
        for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
            roots.update(
                str(Path(prefix, *parts))
                for parts in (("lib", version), ("lib64", version), ("bin",), ("Scripts",))
            )
        # site-packages/dist-packages outside those prefixes: user site, Debian's python3.
        roots.update(
            entry for entry in sys.path if entry.endswith(("site-packages", "dist-packages"))
        )
        _ROOTS = tuple(sorted(os.path.realpath(root) + os.sep for root in roots))
    return _ROOTS


def _unwrap(function: Callable[..., Any] | None) -> Any:
    seen = 0
    while function is not None and hasattr(function, "__wrapped__") and seen < 20:
        function = function.__wrapped__
        seen += 1
    return function


def _code_file(func: Any) -> Path | None:
    code = getattr(func, "__code__", None)
    filename = getattr(code, "co_filename", None)
    if not filename or filename.startswith("<") or _is_cell_name(filename):
        return None
    return _real_file(filename)


def _real_file(filename: object) -> Path | None:
    if not isinstance(filename, str) or not filename:
        return None
    path = abspath(filename)
    return path if path.is_file() else None


def _module_name(module_name: str | None, main: Any) -> str | None:
    if module_name and module_name != "__main__":
        return module_name
    spec = getattr(main, "__spec__", None)  # set for `python -m pkg.mod`
    name = getattr(spec, "name", None)
    return name if isinstance(name, str) and name != "__main__" else None


def _in_notebook(main: Any) -> bool:
    return "ipykernel" in sys.modules and not getattr(main, "__file__", None)


def _is_cell_file(func: Any) -> bool:
    filename = getattr(getattr(func, "__code__", None), "co_filename", "") or ""
    return _is_cell_name(filename)


def _is_cell_name(filename: str) -> bool:
    # ipykernel compiles each cell under a temp name such as /tmp/ipykernel_123/456.py.
    return "/ipykernel_" in filename or filename.startswith("<ipython-input-")


def _notebook_path(main: Any) -> Path | None:
    for name in _NOTEBOOK_NAMES:
        value = getattr(main, name, None)
        if isinstance(value, str) and value.endswith(".ipynb"):
            path = _real_file(value)
            if path is not None:
                return path
    return None


def script_section(origin: Origin | None) -> dict[str, Any] | None:
    """The ``script`` section of run.lock: the file relative to its repository, and more.

    ``path`` is relative to ``repo`` (the work tree's root) when the file is in one, else
    absolute; ``module`` is there for importable code (how ``naga rerun`` starts it), and
    ``notebook: true`` for notebook cells (``path`` is then the notebook, or ``null`` when
    the front end did not say which).
    """
    if origin is None or (origin.script is None and origin.function is None):
        return None
    path: str | None = None
    repo: str | None = None
    if origin.script is not None:
        root = repo_root_of(origin.script)
        script = abspath(origin.script)
        if root is not None:
            repo = str(root)
            path = script.relative_to(root).as_posix()
        else:
            path = str(script)
    section: dict[str, Any] = {"path": path, "repo": repo, "function": origin.function}
    if origin.module:
        section["module"] = origin.module
    if origin.notebook:
        section["notebook"] = True
    return section
