"""``@clicfg``: a config class becomes a Hydra-override command line, and each run a run.lock.

The decorated function keeps working as a plain function: called from a notebook, a
test or another module it uses the defaults (or the config object / keyword overrides it
is given) and never reads ``sys.argv``. Only when it is called from the top level of the
script that was started (``python process.py ...``, ``python -m pkg.mod``, a console
script) does it parse the command line.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Generic, NoReturn, TypeVar, overload

from naga._argparse import OneLineErrorParser
from naga._pipes import quiet_broken_pipe
from naga.errors import ConfigError, NagaError, UsageError, did_you_mean, first_line

R = TypeVar("R")
_NAGA_DIR = str(Path(__file__).resolve().parent)
#: ``main()`` without a config: the command line at a script's top level, else the defaults.
_NO_CONFIG: Any = object()


@overload
def clicfg(fn: Callable[..., R], /) -> Command[R]: ...
@overload
def clicfg(
    *, config_class: Any = None, track_code: bool = True
) -> Callable[[Callable[..., R]], Command[R]]: ...
def clicfg(
    fn: Callable[..., Any] | None = None, /, *, config_class: Any = None, track_code: bool = True
) -> Any:
    """Turn ``fn(cfg)`` into a command-line program configured by ``config_class``.

    Args:
        fn: The function to decorate (when used bare, as ``@clicfg``).
        config_class: The config: a plain class with class attributes, a dataclass, an
            attrs class, a dict or a DictConfig (or an instance of one). Defaults to the
            annotation of ``fn``'s first parameter.
        track_code: Record the git state of the script's repository in run.lock.

    Returns:
        A callable with ``fn``'s name, docstring and signature. ``main()`` at a script's
        top level parses the command line; ``main()``, ``main(cfg)`` or
        ``main(key=value)`` elsewhere run with the defaults, that config, or those typed
        overrides. It returns ``fn``'s return value.
    """

    def decorate(function: Callable[..., Any]) -> Any:
        return Command(function, config_class=config_class, track_code=track_code)

    return decorate(fn) if fn is not None else decorate


class Command(Generic[R]):
    """The callable that ``@clicfg`` puts in place of the function (returning its result)."""

    __name__: str  # set by functools.update_wrapper

    def __init__(self, function: Callable[..., R], *, config_class: Any, track_code: bool) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.config_class = (
            config_class if config_class is not None else _annotated_config(function)
        )
        self.track_code = track_code

    def __call__(self, cfg: Any = _NO_CONFIG, /, **overrides: Any) -> R:
        """Run: ``main()`` (the command line, at a script's top level), ``main(cfg)``,
        ``main(key=value)``."""
        if cfg is _NO_CONFIG and not overrides and _called_as_script():
            return self.cli()  # the function's result (None after --help, --cfg or a sweep)
        return self.run(None if cfg is _NO_CONFIG else cfg, **overrides)

    # -- programmatic --------------------------------------------------------------
    def run(self, cfg: Any = None, /, **overrides: Any) -> R:
        """Run once with ``cfg`` (or the defaults) and typed keyword overrides.

        Raises:
            ConfigError: An override names an unknown key or has the wrong type.
        """
        from naga.launch.job import start_job

        base = self._typed_base(cfg)
        if overrides:
            base = _apply_typed_overrides(base, overrides)
        return start_job(self._app(base), base).call()

    def _typed_base(self, cfg: Any) -> Any:
        from omegaconf import DictConfig, OmegaConf
        from omegaconf.errors import OmegaConfBaseException

        from naga.config.structured import to_structured

        base = to_structured(self.config_class)
        if cfg is None:
            return base
        given = to_structured(cfg) if not isinstance(cfg, (dict, DictConfig)) else cfg
        try:
            merged = OmegaConf.merge(base, given)
        except OmegaConfBaseException as exc:
            raise ConfigError(f"config passed to {self.__name__}(): {first_line(exc)}") from exc
        OmegaConf.set_struct(merged, True)
        return merged

    def _app(self, base: Any) -> Any:
        from naga.launch.job import App
        from naga.lock.origin import origin_of, user_command

        origin = origin_of(self.function)
        return App(
            function=self.function,
            base=base,
            origin=origin,
            name=origin.script.stem if origin.script else self.function.__name__,
            track_code=self.track_code,
            command=user_command(),
        )

    # -- command line ----------------------------------------------------------------
    def cli(self, argv: Sequence[str] | None = None) -> Any:
        """Parse ``argv`` (default ``sys.argv[1:]``) and run; usage errors exit with code 2.

        ``--help`` and ``--cfg`` into a pipe whose reader has gone (``| head``) end quietly
        with exit status 141 (naga._pipes). With ``--debug`` (or ``NAGA_DEBUG=1``) a
        failing run opens naga's post-mortem debugger (naga.debug) at the failing line of
        the user's code, as ``@unsafe_debug`` does.
        """
        parser = self._parser()
        with quiet_broken_pipe():
            job = self._parse_and_start(parser, argv)
        if job is None:
            return None  # --help, --cfg or a sweep: done
        from naga.debug import debugged

        return debugged(job.call)

    def _parse_and_start(self, parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> Any:
        """Everything up to the user's function: the started single run, else None."""
        ns = parser.parse_intermixed_args(argv)
        overrides = [item for group in ns.override or [] for item in group] + list(ns.overrides)
        if ns.debug:
            from naga.debug import ENV_VAR

            os.environ[ENV_VAR] = "1"
        try:
            base = self._file_base(ns.config or [], ns.experiment)
            if ns.help:
                self._print_help(parser, base)
                return None
            options = _sweep_options(ns)
            app = self._app(base)
            if options.is_sweep:
                from naga.debug import debugged
                from naga.launch.sweep import run_sweep

                # In debug mode the first failing job stops the sweep; a NagaError is a
                # mistake in the command line, never a reason to open a debugger.
                code = debugged(lambda: run_sweep(app, overrides, options), skip=(NagaError,))
                if code:
                    sys.exit(code)
                return None
            if ns.cfg:
                self._print_config(base, overrides, app.name)
                return None
            if options.n_jobs is not None or options.slurm_config is not None or options.detach:
                flag = (
                    "--n_jobs"
                    if options.n_jobs is not None
                    else "--slurm_config"
                    if options.slurm_config is not None
                    else "--detach"
                )
                raise UsageError(
                    f"{flag} only applies to sweeps: add -m with sweep overrides (param=1,2,3) "
                    "or --tasks FILE"
                )
            from naga.config.compose import compose
            from naga.launch.job import resolve_once, start_job

            cfg = resolve_once(compose(base, overrides, job_name=app.name))
            # A run that cannot start (busy save_dir, unwritable run.lock, a bad NAGA_*
            # variable) is the user's mistake too; once the function runs, its errors are its own.
            return start_job(app, cfg, resolved=True)
        except NagaError as exc:
            _fail(parser.prog, exc)

    def _file_base(self, files: Sequence[str], experiment: str | None) -> Any:
        from naga.config.files import layer_files
        from naga.config.structured import to_structured

        return layer_files(to_structured(self.config_class), files, experiment)

    def _print_config(self, base: Any, overrides: Sequence[str], job_name: str) -> None:
        from naga.config.compose import compose
        from naga.config.structured import to_yaml
        from naga.launch.job import resolve_once

        cfg = resolve_once(compose(base, overrides, job_name=job_name))
        sys.stdout.write(to_yaml(cfg))

    def _print_help(self, parser: argparse.ArgumentParser, base: Any) -> None:
        from naga.config.structured import to_yaml

        text = parser.format_help()
        text += "\ndefault config (override any key as key=value or -o key=value):\n\n"
        text += to_yaml(base)
        sys.stdout.write(text)

    def _parser(self) -> argparse.ArgumentParser:
        prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else self.__name__
        parser = OneLineErrorParser(
            prog=prog,
            description=inspect.cleandoc(self.__doc__ or ""),
            add_help=False,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            usage="%(prog)s [options] [key=value ...]",
        )
        add = parser.add_argument
        add(
            "overrides",
            nargs="*",
            metavar="key=value",
            help="Hydra override: a.b=1, +new=1, ++k=1, ~k, lists [1,2], null, ${...}",
        )
        add(
            "-o",
            "--override",
            action="append",
            nargs="+",
            metavar="KEY=VALUE",
            help="override(s), same grammar as the bare form",
        )
        add(
            "-h",
            "--help",
            action="store_true",
            help="show this help and the default config, then exit",
        )
        add(
            "--config",
            action="append",
            metavar="FILE",
            help="YAML file over the defaults (.yml/.yaml; repeat to merge in order)",
        )
        add(
            "--experiment",
            metavar="NAME",
            help="use section NAME (dotted path) of the --config file(s)",
        )
        add(
            "--cfg",
            action="store_true",
            help="print the fully resolved config and exit (in a sweep: each job's config)",
        )
        add(
            "-m",
            "--multirun",
            action="store_true",
            help="sweep: one job per combination (a=1,2 b=x,y), range(), choice(), glob()",
        )
        add(
            "--tasks",
            metavar="FILE",
            help="one job per value (.txt lines) or item (.yaml/.json list)",
        )
        add(
            "--task_to",
            "--task-to",
            dest="task_to",
            metavar="KEY",
            help="config key each task sets",
        )
        add(
            "--tasks-key",
            "--tasks_key",
            dest="tasks_key",
            metavar="KEY",
            help="take the task list from this config key",
        )
        add(
            "--n_jobs",
            "--n-jobs",
            dest="n_jobs",
            type=_positive_int,
            metavar="N",
            help="run N jobs at once (joblib launcher)",
        )
        add(
            "--slurm_config",
            "--slurm-config",
            dest="slurm_config",
            metavar="FILE",
            help="submit jobs to Slurm with the parameters in FILE (submitit launcher)",
        )
        add(
            "--skip-completed",
            "--skip_completed",
            dest="skip_completed",
            action="store_true",
            help="in a sweep, skip jobs whose run.lock is completed with the same config and code",
        )
        add(
            "--detach",
            action="store_true",
            help="submit every job (Slurm, submitit_local), write sweep.lock and exit; "
            "follow with `naga status DIR`",
        )
        add(
            "--no-isolate",
            "--no_isolate",
            dest="isolate",
            action="store_false",
            help="Slurm/submitit jobs import the work tree as it is when they start, "
            "not the code that was submitted",
        )
        # `naga resume DIR` runs the sweep's recorded command with this flag.
        add("--resume", metavar="DIR", help=argparse.SUPPRESS)
        add(
            "--debug", action="store_true", help="post-mortem debugger on failure (as NAGA_DEBUG=1)"
        )
        return parser


def _fail(prog: str, exc: NagaError) -> NoReturn:
    print(f"{prog}: error: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of jobs, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 job, got {value}")
    return value


def _sweep_options(ns: argparse.Namespace) -> Any:
    from naga.launch.options import SweepOptions

    for flag, value in (("--tasks", ns.tasks), ("--slurm_config", ns.slurm_config)):
        # A resumed sweep runs its recorded jobs and settings, not these files again.
        if value is not None and not ns.resume and not Path(value).is_file():
            raise UsageError(f"{flag} {value}: no such file (paths are relative to {Path.cwd()})")
    if ns.task_to and not (ns.tasks or ns.tasks_key):
        raise UsageError("--task_to needs --tasks FILE or --tasks-key KEY to take the values from")
    return SweepOptions(
        multirun=ns.multirun,
        tasks=Path(ns.tasks) if ns.tasks else None,
        task_to=ns.task_to,
        tasks_key=ns.tasks_key,
        n_jobs=ns.n_jobs,
        slurm_config=Path(ns.slurm_config) if ns.slurm_config else None,
        skip_completed=ns.skip_completed,
        print_configs=ns.cfg,
        detach=ns.detach,
        isolate=ns.isolate,
        resume=Path(ns.resume) if ns.resume else None,
    )


def _apply_typed_overrides(base: Any, overrides: dict[str, Any]) -> Any:
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

    from naga.config.compose import dotted_keys

    cfg = base.copy()
    for key, value in overrides.items():
        try:
            OmegaConf.update(cfg, key, value, merge=True)
        except (ConfigAttributeError, ConfigKeyError) as exc:
            raise ConfigError(
                f"keyword override {key}=...: unknown key '{key}'."
                + did_you_mean(key, dotted_keys(base), what="keys")
            ) from exc
        except OmegaConfBaseException as exc:
            raise ConfigError(f"keyword override {key}={value!r}: {first_line(exc)}") from exc
    return cfg


def _annotated_config(function: Callable[..., Any]) -> Any:
    params = list(inspect.signature(function).parameters.values())
    if params:
        hint = params[0].annotation
        if isinstance(hint, str):
            hint = function.__globals__.get(hint, inspect.Parameter.empty)
        if hint is not inspect.Parameter.empty:
            return hint
    raise UsageError(
        f"@clicfg on {function.__qualname__}: pass config_class=YourConfig or annotate the "
        f"first parameter (def {function.__name__}(cfg: YourConfig))"
    )


def _called_as_script() -> bool:
    """True when the call comes from the top level of the program that was started.

    The caller (the first frame outside naga) must run in ``__main__`` from the file
    named by ``sys.argv[0]``: that is ``python script.py``, ``python -m pkg.mod``,
    ``ipython -i script.py`` and console scripts, and not a Jupyter kernel (whose argv is
    the kernel launcher's), pytest, or another module calling the function.
    """
    if not sys.argv or not sys.argv[0]:
        return False
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_NAGA_DIR):
        frame = frame.f_back
    if frame is None or frame.f_globals.get("__name__") != "__main__":
        return False
    try:
        return Path(frame.f_code.co_filename).samefile(sys.argv[0])
    except OSError:
        return False
