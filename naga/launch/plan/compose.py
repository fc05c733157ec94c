"""Every job's config from one composed base: Hydra's per-job compose without the composing.

Hydra composes each job of a multirun from scratch (``load_sweep_config``, ~180 ms), and its
launchers do it again where the job runs. :class:`JobConfigs` composes once what the jobs
share (the primary config in RUN mode with the sweep's ``hydra.*`` overrides); each job is a
copy of it with its overrides applied by Hydra's own routine (naga._hydra_compat) and the
``hydra`` node kept as Hydra's compose keeps it (``overrides.task``/``hydra``,
``override_dirname``, ``env_copy``, ``runtime.cwd``, the resolver cache). The result equals
``load_sweep_config``. Overrides that change the defaults list (a config group, or a key the
compose reads itself) are composed by Hydra. Each job is checked when added, derived when
launched; copies unpickle the base (~5x faster than ``deepcopy``), classes by reference.
"""

from __future__ import annotations

import copy
import io
import os
import pickle
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from naga import _hydra_compat as compat
from naga.launch.plan import hydra_session

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override
    from omegaconf import DictConfig

C = TypeVar("C")

#: ``hydra.*`` keys whose values Hydra's compose reads or sets itself: a job overriding one
#: is composed by Hydra.
_COMPOSE_TIME_KEYS = (
    "hydra.searchpath",
    "hydra.runtime",
    "hydra.overrides",
    "hydra.job.config_name",
    "hydra.job.env_copy",
)
_SUBDIR = re.compile(r"hydra\.sweep\.subdir='([A-Za-z0-9._=,+\-]+)'")


class _ClassesByReference(pickle.Pickler):
    """A pickler that leaves classes out of the bytes, keeping them in a list instead.

    (A subclass, not an attribute set on an instance: Python 3.13 made the C pickler's
    ``persistent_id`` read-only.)
    """

    def __init__(self, buffer: io.BytesIO) -> None:
        super().__init__(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self.objects: list[type] = []
        self._ids: dict[int, int] = {}

    def persistent_id(self, obj: object) -> int | None:
        # Classes by reference: naga's generated dataclasses carry the user's class name,
        # which pickle would look up and find to be another class.
        if not isinstance(obj, type):
            return None
        index = self._ids.get(id(obj))
        if index is None:
            index = self._ids[id(obj)] = len(self.objects)
            self.objects.append(obj)
        return index


class _ClassesFromList(pickle.Unpickler):
    """The unpickler matching :class:`_ClassesByReference`."""

    def __init__(self, data: bytes, objects: list[type]) -> None:
        super().__init__(io.BytesIO(data))
        self._objects = objects

    def persistent_load(self, pid: int) -> type:
        return self._objects[pid]


class Template(Generic[C]):
    """A config kept as pickle bytes; each :meth:`copy` is a new, independent config."""

    def __init__(self, cfg: C) -> None:
        buffer = io.BytesIO()
        pickler = _ClassesByReference(buffer)
        self._objects = pickler.objects
        try:
            pickler.dump(cfg)
        except (pickle.PicklingError, TypeError, AttributeError):
            # A value pickle cannot take: fall back to copying the object itself.
            self._bytes: bytes | None = None
            self._cfg = copy.deepcopy(cfg)
        else:
            self._bytes = buffer.getvalue()

    def copy(self) -> C:
        """A fresh copy of the config."""
        if self._bytes is None:
            return copy.deepcopy(self._cfg)
        return _ClassesFromList(self._bytes, self._objects).load()


@dataclass
class _Job:
    what: str  # how errors name the job: "job 3 (param=3)"
    parsed: list[Override] | None  # None: composed by Hydra, kept in `composed`
    composed: DictConfig | None = None


class JobConfigs:
    """The configs of a sweep's jobs, derived from one composed base, by job number.

    Raises:
        ConfigError: The base cannot be composed.
    """

    def __init__(self, session: hydra_session.Session) -> None:
        from hydra.core.override_parser.overrides_parser import OverridesParser
        from omegaconf import open_dict, read_write

        self._session = session
        base = hydra_session.compose_base(session)
        self._full = Template(base)
        with read_write(base), open_dict(base):
            del base["hydra"]
        self._app = Template(base)
        # The config repository a job's compose would search: the one Hydra builds for the
        # sweep's `hydra.*` overrides, so a `hydra.searchpath` given on the command line too.
        self._group_exists: Callable[[str], bool] = compat.group_checker(
            session.hydra.config_loader,
            session.cfg.hydra.job.config_name,
            hydra_session.override_lines(session.cfg.hydra.overrides.hydra),
        )
        self._groups: dict[str, bool] = {}
        self._parser = OverridesParser.create()
        self._parsed: dict[str, Override] = {}
        self._jobs: list[_Job] = []
        self._numbered: dict[int, _Job] = {}
        # Derivations may run in a launcher's thread (joblib pickles jobs in a feeder thread).
        self._lock = threading.Lock()

    def add(self, overrides: Sequence[str], *, what: str, num: int | None = None) -> int:
        """Check one job's overrides against the base and keep them; returns its number.

        ``num`` defaults to the number of jobs added before; ``what`` names the job in errors.

        Raises:
            ConfigError: An override that does not parse or does not fit, naming ``what``.
        """
        texts = [str(text) for text in overrides]
        parsed = hydra_session.guard(lambda: [self._parse(text) for text in texts], what)
        if self._needs_compose(parsed):
            job = _Job(what, None, hydra_session.compose_job(self._session, texts, what=what))
        else:
            app = [override for override in parsed if not override.is_hydra_override()]
            hydra_session.guard(lambda: compat.apply_overrides(app, self._app.copy()), what)
            job = _Job(what, parsed)
        num = len(self._jobs) if num is None else num
        self._jobs.append(job)
        self._numbered[num] = job
        return num

    def config(self, num: int) -> DictConfig:
        """Job ``num``'s config, ``hydra`` node included, as ``load_sweep_config`` makes it.

        Each call returns a new config (``hydra.job.id``/``num`` are left to the launcher).

        Raises:
            ConfigError: The job's overrides do not fit (checked already by :meth:`add`).
        """
        from omegaconf import OmegaConf

        job = self._numbered[num]
        with self._lock:
            if job.composed is not None:
                cfg = copy.deepcopy(job.composed)
            else:
                cfg = self._full.copy()
                parsed = job.parsed or []
                hydra_session.guard(lambda: compat.apply_overrides(parsed, cfg), job.what)
                self._record_overrides(cfg, parsed)
            OmegaConf.copy_cache(from_config=self._session.cfg, to_config=cfg)
        return cfg

    def task_config(self, num: int) -> DictConfig:
        """Job ``num``'s config without the ``hydra`` node: what the task function gets.

        It is the app part of :meth:`config`'s result; the launcher gives it that config's
        resolver cache (``${now:...}`` values) once the job's directory is resolved.
        """
        from omegaconf import open_dict, read_write

        job = self._numbered[num]
        with self._lock:
            if job.composed is not None:
                cfg = copy.deepcopy(job.composed)
                with read_write(cfg), open_dict(cfg):
                    del cfg["hydra"]
            else:
                cfg = self._app.copy()
                app = [item for item in job.parsed or [] if not item.is_hydra_override()]
                hydra_session.guard(lambda: compat.apply_overrides(app, cfg), job.what)
        return cfg

    def _parse(self, text: str) -> Override:
        # The same override appears in many jobs (the values every job shares).
        parsed = self._parsed.get(text)
        if parsed is None:
            parsed = subdir_override(text) or self._parser.parse_overrides([text])[0]
            self._parsed[text] = parsed
        return parsed

    def _needs_compose(self, parsed: Sequence[Override]) -> bool:
        for override in parsed:
            key = override.key_or_group
            if override.is_sweep_override() or key.startswith(_COMPOSE_TIME_KEYS):
                return True
            is_group = self._groups.get(key)
            if is_group is None:
                is_group = self._groups[key] = bool(self._group_exists(key))
            # As Hydra's defaults list decides: a dict value for a group is a config value.
            if is_group and not isinstance(override.value(), dict):
                return True
        return False

    @staticmethod
    def _record_overrides(cfg: DictConfig, parsed: Sequence[Override]) -> None:
        """The bookkeeping Hydra's compose does after applying the overrides."""
        app = []
        for override in parsed:
            if override.is_hydra_override():
                cfg.hydra.overrides.hydra.append(override.input_line)
            else:
                cfg.hydra.overrides.task.append(override.input_line)
                app.append(override)
        refresh_process_facts(cfg)
        dirname = cfg.hydra.job.config.override_dirname  # its separators and exclusions
        cfg.hydra.job.override_dirname = compat.overrides_dirname(app, dirname)


_SUBDIR_TEMPLATE: list[Override] = []


def subdir_override(text: str) -> Override | None:
    """``hydra.sweep.subdir='<name>'`` (every job has one) as parsed, without the parser.

    A job name holds only ``[A-Za-z0-9._=,+-]`` (naga.launch.plan.naming), so quoted it parses
    to its own text: the parser's result for one name is reused with another (~0.1 ms a
    job saved, 0.1 s before the first job of a 1,000-job sweep). None for other overrides.
    """
    match = _SUBDIR.fullmatch(text)
    if match is None:
        return None
    if not _SUBDIR_TEMPLATE:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        parser = OverridesParser.create()
        _SUBDIR_TEMPLATE.append(parser.parse_overrides(["hydra.sweep.subdir='x'"])[0])
    return compat.with_quoted_text(_SUBDIR_TEMPLATE[0], match.group(1), text)


def refresh_process_facts(cfg: DictConfig) -> None:
    """Read again what Hydra's compose reads from the process that composes the job.

    ``hydra.job.env_copy`` (into ``hydra.job.env_set``) and ``hydra.runtime.cwd``: a job
    handed to a loky worker or a Slurm node sees that process's environment, as it would
    had Hydra composed it there.
    """
    from omegaconf import open_dict

    # Flags are set on the smallest nodes: entering and leaving open_dict on a node
    # invalidates the flag caches of its whole subtree.
    job = cfg.hydra.job
    if job.env_copy:
        with open_dict(job.env_set):
            for key in job.env_copy:
                job.env_set[key] = os.environ[key]
    cfg.hydra.runtime.cwd = str(Path.cwd())
