"""In-process tests of ``naga.unsafe_debug``: wrapping, inertness, frame choice, summary.

Under pytest stdin is not a terminal, so an enabled decorator takes the batch path here
(banner + locals summary on stderr, no debugger); the terminal paths are exercised through
a real pseudo-terminal in ``test_debug_terminal.py``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys

import pytest

from naga.debug import DebugContext, build_context, debug_enabled, unsafe_debug


def _plain(cfg: dict[str, int], *, scale: float = 2.0) -> float:
    """Divide by the config's denominator."""
    a = cfg["den"]
    return scale / a


def _helper_json(text: str) -> object:
    inner = text.strip()
    return json.loads(inner)  # raises deep inside the stdlib's json decoder


def _outer_json(cfg: dict[str, str]) -> object:
    outer_local = "kept"
    return _helper_json(cfg["text"]) or outer_local


def test_name_doc_signature_preserved() -> None:
    wrapped = unsafe_debug(_plain)
    assert wrapped.__name__ == "_plain"
    assert wrapped.__doc__ == "Divide by the config's denominator."
    assert wrapped.__wrapped__ is _plain
    assert inspect.signature(wrapped) == inspect.signature(_plain)


def test_called_form_is_the_bare_form() -> None:
    wrapped = unsafe_debug()(_plain)
    assert wrapped({"den": 4}) == 0.5
    assert inspect.signature(wrapped) == inspect.signature(_plain)


def test_inert_without_env(capsys: pytest.CaptureFixture[str]) -> None:
    wrapped = unsafe_debug(_plain)
    assert wrapped({"den": 4}, scale=8) == _plain({"den": 4}, scale=8)
    with pytest.raises(ZeroDivisionError) as plain_info:
        _plain({"den": 0})
    with pytest.raises(ZeroDivisionError) as wrapped_info:
        wrapped({"den": 0})
    assert str(wrapped_info.value) == str(plain_info.value)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("value", ["0", "false", "no", "", "off", "2"])
def test_other_values_keep_it_off(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAGA_DEBUG", value)
    assert not debug_enabled()
    with pytest.raises(ZeroDivisionError):
        unsafe_debug(_plain)({"den": 0})
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", " yes "])
def test_truthy_values_switch_it_on(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAGA_DEBUG", value)
    assert debug_enabled()


def test_env_is_read_at_exception_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # clicfg's --debug sets NAGA_DEBUG inside the call, after the wrapper was entered.
    @unsafe_debug
    def main() -> None:
        monkeypatch.setenv("NAGA_DEBUG", "1")
        a = 0
        print(1 / a)

    with pytest.raises(ZeroDivisionError):
        main()
    err = capsys.readouterr().err
    assert "naga.unsafe_debug: ZeroDivisionError: division by zero" in err
    assert "    a: 0" in err


def test_batch_summary_and_same_exception(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAGA_DEBUG", "1")
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        unsafe_debug(_plain)({"den": 0}, scale=3.0)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == "naga.unsafe_debug: ZeroDivisionError: float division by zero"
    assert lines[1].startswith("  at ") and lines[1].endswith(" in _plain")
    assert "ctx holds the locals, e.g. ctx['cfg']" in lines[2]
    assert "no debugger" in lines[2]
    assert "    cfg: {'den': 0}" in lines
    assert "    scale: 3.0" in lines
    assert "    a: 0" in lines


def test_summary_is_capped_and_survives_bad_repr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class BadRepr:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    @unsafe_debug
    def crowded() -> None:
        bad = BadRepr()
        text = "x" * 10_000
        multi = "line1\nline2"
        big = {f"v{i}": list(range(100)) for i in range(50)}
        raise ValueError(f"{len(text)} {len(multi)} {len(big)} {id(bad)}\nsecond line")

    monkeypatch.setenv("NAGA_DEBUG", "yes")
    with pytest.raises(ValueError):
        crowded()
    err = capsys.readouterr().err
    assert "naga.unsafe_debug: ValueError: 10000 11 50 " in err
    assert "second line" not in err  # the banner keeps the message's first line
    assert "    bad: <BadRepr instance at 0x" in err
    text_line = next(line for line in err.splitlines() if line.startswith("    text: "))
    assert len(text_line) <= 104
    assert all(len(line) <= 104 for line in err.splitlines()[3:])


def test_many_locals_are_capped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = "def many():\n" + "".join(f"    v{i} = {i}\n" for i in range(40)) + "    1 / 0\n"
    namespace: dict[str, object] = {}
    exec(compile(source, "/tmp/user_code_many.py", "exec"), namespace)
    monkeypatch.setenv("NAGA_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        unsafe_debug(namespace["many"])()  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "    v29: 29" in err
    assert "    v30: 30" not in err
    assert "... and 10 more (see ctx)" in err


def test_deepest_user_frame_is_chosen() -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        _outer_json({"text": " {"})
    ctx, frame = build_context(info.value)
    assert isinstance(ctx, DebugContext)
    assert frame.f_code is _helper_json.__code__
    assert ctx["inner"] == "{"
    assert ctx["text"] == " {"
    assert ctx.frames[ctx.index].function == "_helper_json"
    # The other frames stay reachable: the caller's locals, and json's own frames below.
    assert ctx.frame(ctx.index - 1)["outer_local"] == "kept"
    assert ctx.frames[-1].filename.endswith(("decoder.py", "__init__.py"))
    assert "json" in ctx.frames[-1].filename
    assert ctx.where.endswith(" in _helper_json")
    assert ctx.exception is info.value


def test_ctx_is_a_snapshot_dict() -> None:
    def fails() -> None:
        a = 0
        print(1 / a)

    with pytest.raises(ZeroDivisionError) as info:
        fails()
    ctx, _ = build_context(info.value)
    assert dict(ctx) == {"a": 0}
    ctx["a"] = 5  # a plain dict: editing it does not touch the frame
    assert ctx.frames[ctx.index].locals == {"a": 0}


def test_nested_decorated_calls_report_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @unsafe_debug
    def inner() -> None:
        a = 0
        print(1 / a)

    @unsafe_debug
    def outer() -> None:
        inner()

    monkeypatch.setenv("NAGA_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        outer()
    assert capsys.readouterr().err.count("naga.unsafe_debug:") == 1


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_interrupts_and_exits_pass_through(
    exc_type: type[BaseException],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    @unsafe_debug
    def stop() -> None:
        raise exc_type

    monkeypatch.setenv("NAGA_DEBUG", "1")
    with pytest.raises(exc_type):
        stop()
    assert capsys.readouterr().err == ""


def test_async_functions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @unsafe_debug
    async def fetch(n: int) -> float:
        """Async doc."""
        await asyncio.sleep(0)
        return 1 / n

    assert inspect.iscoroutinefunction(fetch)
    assert fetch.__doc__ == "Async doc."
    assert asyncio.run(fetch(2)) == 0.5
    monkeypatch.setenv("NAGA_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        asyncio.run(fetch(0))
    err = capsys.readouterr().err
    assert "in fetch" in err
    assert "    n: 0" in err


def test_import_stays_light() -> None:
    # naga.debug itself must not pull in IPython or pdb; they load only on a failure.
    import subprocess

    code = (
        "import sys, naga.debug; "
        "print(sorted(m for m in ('IPython', 'pdb', 'hydra', 'omegaconf') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
