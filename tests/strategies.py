"""Hypothesis strategies shared by the test suite.

``import strategies`` from any test: pytest puts tests/ on ``sys.path`` (``pythonpath`` in
pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

# Awkward but legal POSIX file-name characters: spaces, newlines, quotes, colons, non-ASCII.
_NAME_ALPHABET = st.sampled_from(list("ab zZ09._-:'\"\n\tü実験é\\#%"))


def file_names(*, max_size: int = 8) -> st.SearchStrategy[str]:
    """One path component: never empty, ``.``, ``..``, or containing ``/`` or NUL."""
    return st.text(_NAME_ALPHABET, min_size=1, max_size=max_size).filter(
        lambda name: name not in {".", ".."}
    )


def _without_conflicts(paths: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Drop paths that would need a name to be both a file and a directory."""
    files: set[tuple[str, ...]] = set()
    dirs: set[tuple[str, ...]] = set()
    kept = []
    for parts in paths:
        prefixes = {parts[:i] for i in range(1, len(parts))}
        if parts in files or parts in dirs or prefixes & files:
            continue
        kept.append(parts)
        files.add(parts)
        dirs |= prefixes
    return kept


@st.composite
def file_trees(
    draw: st.DrawFn, *, min_files: int = 0, max_files: int = 8, max_depth: int = 3
) -> dict[str, bytes]:
    """A small file tree: ``{"relative/posix/path": content}``.

    Names exercise spaces, newlines and unicode; contents include the empty file.
    """
    parts = draw(
        st.lists(
            st.lists(file_names(), min_size=1, max_size=max_depth).map(tuple),
            min_size=min_files,
            max_size=max_files,
        )
    )
    paths = _without_conflicts(parts)
    if len(paths) < min_files:
        # Conflicting names were dropped; top up with names that cannot conflict.
        paths += [(f"extra-{i}",) for i in range(min_files - len(paths))]
    contents = draw(st.lists(st.binary(max_size=64), min_size=len(paths), max_size=len(paths)))
    return {"/".join(p): data for p, data in zip(paths, contents, strict=True)}


def write_tree(root: Path, tree: dict[str, bytes]) -> Path:
    """Create the files of ``tree`` (as made by :func:`file_trees`) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in tree.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root
