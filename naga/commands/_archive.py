"""The file ``naga export`` writes and ``naga import`` reads: a tar with a manifest last.

Layout: ``runs/<path>/...``, ``git/<n>.bundle`` and ``naga-export.json`` (every member's
size and sha256, so truncated and corrupt files are told apart). Reading treats the file as
hostile: every member is checked before anything is written, extraction uses tarfile's
``data`` filter (PEP 706) into a new directory, removed on any refusal.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from naga.errors import NagaError

MANIFEST = "naga-export.json"
FORMAT_KEY = "naga_export"
FORMAT_VERSION = 1
RUNS = "runs"
GIT = "git"
_CHUNK = 1 << 20


class ArchiveError(NagaError):
    """An export file that cannot be read, or that is refused."""


def compressed(path: Path) -> bool:
    """Whether ``path``'s name asks for gzip."""
    return path.name.endswith((".gz", ".tgz"))


class _Hashing(io.RawIOBase):
    """A file read through while its sha256 is computed (one pass for tar and hash)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha.update(data)
        return data


@dataclass
class Writer:
    """Write an export file: members first, the manifest last, the file renamed into place.

    Attributes:
        target: The file to produce; it appears only when :meth:`finish` succeeds.
        files: ``{member name: {size, sha256}}`` written so far.
    """

    target: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    _tar: tarfile.TarFile | None = None
    _temp: Path | None = None

    def __enter__(self) -> Writer:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(
            dir=self.target.parent, prefix=f".{self.target.name}.", suffix=".tmp"
        )
        os.close(handle)
        self._temp = Path(name)
        if compressed(self.target):
            self._tar = tarfile.open(self._temp, "w:gz", format=tarfile.PAX_FORMAT)
        else:
            self._tar = tarfile.open(self._temp, "w", format=tarfile.PAX_FORMAT)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tar is not None:
            self._tar.close()
            self._tar = None
        if self._temp is not None and self._temp.exists():
            self._temp.unlink()  # not finished: leave nothing behind

    def add_file(self, name: str, source: Path) -> int:
        """Add the regular file ``source`` as ``name``; returns its size."""
        assert self._tar is not None
        st = source.stat()
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), st.st_mode & 0o755
        with source.open("rb") as stream:
            hashing = _Hashing(stream)
            self._tar.addfile(info, hashing)
        self.files[name] = {"size": st.st_size, "sha256": hashing.sha.hexdigest()}
        return st.st_size

    def add_symlink(self, name: str, target: str) -> None:
        """Add a symbolic link ``name`` -> ``target`` (relative, inside the archive)."""
        assert self._tar is not None
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
        self._tar.addfile(info)
        self.files[name] = {"link": target}

    def finish(self, manifest: dict[str, Any]) -> int:
        """Add the manifest, close the file and move it into place; returns its size."""
        assert self._tar is not None and self._temp is not None
        body = {FORMAT_KEY: FORMAT_VERSION, **manifest, "files": self.files}
        data = json.dumps(body, indent=1, ensure_ascii=False).encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(data), 0o644
        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()
        self._tar = None
        self._temp.replace(self.target)
        self._temp = None
        return self.target.stat().st_size


@contextlib.contextmanager
def extracted(archive: Path, beside: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Check ``archive`` and extract it into a new directory beside ``beside``.

    Every member is checked before the directory is made, so a refused file leaves no
    trace at all; one that turns out corrupt while extracting leaves none either.

    Yields:
        ``(directory, manifest)``; the directory is removed when the block ends.

    Raises:
        ArchiveError: The file is unreadable, corrupt, truncated, not a naga export, or
            holds a member that is refused; nothing is left on disk.
    """
    import zlib

    shown = str(archive)
    if not archive.is_file():
        raise ArchiveError(f"{shown} does not exist; pass the file `naga export` wrote")
    temp: Path | None = None
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = tar.getmembers()  # reads to the end: truncation shows here
                for member in members:
                    _refuse_unsafe(member, shown)
                temp = Path(tempfile.mkdtemp(dir=_existing_parent(beside), prefix=".naga-import-"))
                _extract_all(tar, members, temp)
        except ArchiveError:
            raise
        except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
            raise ArchiveError(
                f"{shown} is corrupt or truncated ({_reason(exc)}); nothing was written; "
                "copy the file again, or export it again with `naga export`"
            ) from exc
        manifest = _check_manifest(temp, members, shown)
        yield temp, manifest
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _existing_parent(path: Path) -> Path:
    path = path.absolute()
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


def _refuse(shown: str, member: tarfile.TarInfo, why: str) -> ArchiveError:
    return ArchiveError(
        f"{shown}: entry {member.name!r} {why}; refusing the whole file (nothing was "
        "written); import only files made by `naga export`"
    )


def _refuse_unsafe(member: tarfile.TarInfo, shown: str) -> None:
    """Refuse anything ``naga export`` never writes and anything that could escape."""
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute() or ":" in parts[:1]:
        raise _refuse(shown, member, "has an absolute path")
    if ".." in parts or "\\" in name:
        raise _refuse(shown, member, "leads out of the target with '..'")
    if not parts or (parts[0] not in (RUNS, GIT) and name != MANIFEST):
        raise _refuse(shown, member, f"is outside {RUNS}/, {GIT}/ and {MANIFEST}")
    if member.islnk():
        raise _refuse(shown, member, "is a hard link")
    if name == MANIFEST and not member.isfile():
        raise _refuse(shown, member, "should be the manifest file but is not a regular file")
    if member.issym() and parts[0] != RUNS:
        raise _refuse(shown, member, f"is a link outside {RUNS}/")
    if member.issym():
        target = member.linkname
        if not target or target.startswith("/") or PurePosixPath(target).is_absolute():
            raise _refuse(shown, member, f"is a link to the absolute path {target!r}")
        # Archive names are POSIX paths whatever the platform.
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if resolved.startswith("..") or PurePosixPath(resolved).parts[:1] != (RUNS,):
            raise _refuse(shown, member, f"is a link pointing outside the runs ({target!r})")
    elif not (member.isfile() or member.isdir()):
        raise _refuse(shown, member, "is a device, FIFO or other special file")


def _extract_all(tar: tarfile.TarFile, members: list[tarfile.TarInfo], temp: Path) -> None:
    """Extract checked members with tarfile's ``data`` filter, or its equivalent by hand.

    PEP 706 filters exist from Python 3.12 and in the 3.10.12 / 3.11.4 security releases;
    before them ``extractall`` takes no ``filter`` at all, so each member is checked (and
    its mode and owner made safe) here and only the checked copies are extracted.
    """
    if hasattr(tarfile, "data_filter"):
        tar.extractall(temp, members=members, filter="data")
    else:
        tar.extractall(temp, members=[safe_member(m, str(temp)) for m in members])


def safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """The ``data`` filter's checks for a Python without them (members already screened).

    :func:`_refuse_unsafe` has refused absolute names, ``..``, hard links and special files;
    what remains is where the member and a link's target land, and its mode and owner.

    Raises:
        tarfile.TarError: The member would land, or its link point, outside ``dest``.
    """
    import copy

    root = os.path.realpath(dest)
    target = os.path.realpath(os.path.join(root, member.name))  # noqa: PTH118
    if os.path.commonpath([root, target]) != root:
        raise tarfile.TarError(f"{member.name!r} would be extracted outside the target")
    if member.issym():
        inside = posixpath.join(posixpath.dirname(member.name), member.linkname)
        landing = os.path.realpath(os.path.join(root, inside))  # noqa: PTH118
        if os.path.commonpath([root, landing]) != root:
            raise tarfile.TarError(f"{member.name!r} links outside the target")
    safe = copy.copy(member)  # no TarInfo.replace() before PEP 706 either
    safe.mode = (member.mode & 0o755) | stat.S_IRUSR | stat.S_IWUSR
    safe.uid = safe.gid = 0
    safe.uname = safe.gname = ""
    return safe


def _check_manifest(temp: Path, members: list[tarfile.TarInfo], shown: str) -> dict[str, Any]:
    """The manifest, once every member it lists is there with its size and hash."""
    names = {m.name for m in members}
    if MANIFEST not in names:
        raise ArchiveError(
            f"{shown} has no {MANIFEST}: it is truncated or was not written by "
            "`naga export`; nothing was written; copy or export it again"
        )
    try:
        manifest = json.loads((temp / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"{shown}: {MANIFEST} is not valid JSON; export it again") from exc
    if not isinstance(manifest, dict) or manifest.get(FORMAT_KEY) != FORMAT_VERSION:
        raise ArchiveError(
            f"{shown} is not a naga export of format {FORMAT_VERSION}; export it again "
            "with this naga, or upgrade naga to import it"
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ArchiveError(f"{shown}: {MANIFEST} lists no files; export it again")
    for name, facts in files.items():
        path = temp / name
        if not isinstance(facts, dict) or name not in names:
            raise ArchiveError(
                f"{shown} is truncated or corrupt: {name!r} is missing; nothing was written; "
                "copy the file again, or export it again"
            )
        if "link" in facts:
            continue
        if not path.is_file() or path.stat().st_size != facts.get("size"):
            raise ArchiveError(f"{shown} is corrupt: {name!r} has the wrong size; copy it again")
        if _sha256(path) != facts.get("sha256"):
            raise ArchiveError(
                f"{shown} is corrupt: the content of {name!r} differs from its recorded "
                "sha256; copy the file again"
            )
    extra = {m.name for m in members if m.isfile()} - set(files) - {MANIFEST}
    if extra:
        raise ArchiveError(f"{shown} holds files its manifest does not list ({sorted(extra)[0]!r})")
    return manifest


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()
