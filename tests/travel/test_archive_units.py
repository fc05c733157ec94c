"""The export file's reader in process (naga.commands._archive): the checks on every member.

The subprocess tests (test_export_import.py) refuse hostile files through the ``data``
filter of this Python; here the explicit equivalent used on Pythons without PEP 706 is
exercised too, by removing ``tarfile.data_filter`` for one test (the one stand-in in this
folder: an old interpreter cannot be installed for a unit test).
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naga.commands import _archive
from naga.commands._archive import ArchiveError, Writer, extracted, safe_member


def _write(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    (source / "a").mkdir(parents=True)
    (source / "a" / "run.lock").write_text("naga_lock: 1\nrun_id: x\n")
    (source / "a" / "model.bin").write_bytes(bytes(range(256)) * 10)
    target = tmp_path / "out.tar"
    with Writer(target) as writer:
        writer.add_file("runs/a/run.lock", source / "a" / "run.lock")
        writer.add_file("runs/a/model.bin", source / "a" / "model.bin")
        writer.add_symlink("runs/a/latest", "model.bin")
        writer.finish({"runs": [{"path": "a", "run_id": "x"}]})
    return target


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # extractall without a filter
@pytest.mark.parametrize("filters", [True, False], ids=["PEP 706", "without PEP 706"])
def test_a_good_file_round_trips(tmp_path: Path, monkeypatch, filters: bool) -> None:
    if not filters:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    target = _write(tmp_path)
    with extracted(target, tmp_path / "into") as (temp, manifest):
        assert (temp / "runs/a/model.bin").read_bytes() == bytes(range(256)) * 10
        assert (temp / "runs/a/latest").readlink() == Path("model.bin")
        assert manifest["runs"] == [{"path": "a", "run_id": "x"}]
        assert temp.parent == tmp_path  # beside the target (its nearest existing parent)
    assert not temp.exists()


def test_safe_member_refuses_what_lands_outside(tmp_path: Path) -> None:
    link = tarfile.TarInfo("runs/a/l")
    link.type, link.linkname = tarfile.SYMTYPE, "../../../x"
    with pytest.raises(tarfile.TarError, match="links outside the target"):
        safe_member(link, str(tmp_path))
    sneaky = tarfile.TarInfo("runs/../../x")
    with pytest.raises(tarfile.TarError, match="outside the target"):
        safe_member(sneaky, str(tmp_path))
    setuid = tarfile.TarInfo("runs/a/f")
    setuid.mode, setuid.uid = 0o4777, 1234
    made = safe_member(setuid, str(tmp_path))
    assert (made.mode, made.uid) == (0o755, 0)


def test_an_unlisted_member_is_refused(tmp_path: Path) -> None:
    target = _write(tmp_path)
    with tarfile.open(target, "a") as tar:
        info = tarfile.TarInfo("runs/a/extra.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    refused = pytest.raises(ArchiveError, match="holds files its manifest does not list")
    with refused, extracted(target, tmp_path / "into"):
        pass
    assert not list(tmp_path.glob(".naga-import-*"))


def test_writer_leaves_nothing_when_it_does_not_finish(tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_text("x")
    with pytest.raises(RuntimeError), Writer(tmp_path / "out.tar") as writer:
        writer.add_file("runs/f", source)
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    assert _archive.MANIFEST == "naga-export.json"


_PARTS = st.sampled_from(["runs", "git", "a", "..", ".", "", "naga-export.json", "x y"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(
        st.tuples(
            st.lists(_PARTS, min_size=1, max_size=4).map("/".join),
            st.booleans(),  # an absolute name
            st.one_of(st.none(), st.lists(_PARTS, min_size=1, max_size=5).map("/".join)),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_no_member_lands_outside_whatever_its_name(tmp_path_factory, names) -> None:
    base = tmp_path_factory.mktemp("prop")
    outside, into = base / "outside", base / "a" / "b" / "into"
    outside.mkdir()
    into.mkdir(parents=True)
    archive = base / "f.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, absolute, link in names:
            info = tarfile.TarInfo(("/" + name) if absolute else name)
            if link is None:
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
    try:
        with extracted(archive, into) as (temp, _):
            for path in temp.rglob("*"):  # everything extracted stays below temp
                assert Path(temp).resolve() in Path(os.path.realpath(path)).parents
    except ArchiveError:
        pass
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in base.iterdir()) == ["a", "f.tar", "outside"]
    assert [p.name for p in (base / "a").iterdir()] == ["b"]
    assert [p.name for p in (base / "a" / "b").iterdir()] == ["into"]
    assert list(into.iterdir()) == []
