"""Benchmark: what ``@unsafe_debug`` costs when it is off (no NAGA_DEBUG) — the normal case.

Anchor: the same function wrapped by a bare ``functools.wraps`` pass-through decorator
(``def wrapper(*a, **k): return fn(*a, **k)``), i.e. the cheapest decorator there is.
Measured per call, in nanoseconds:

    plain:        the undecorated function
    passthrough:  the anchor
    unsafe_debug: naga's decorator, NAGA_DEBUG unset
    raise paths:  the same three when the function raises (caught by the caller);
                  unsafe_debug then also reads the environment once

Also: the one-off cost of the batch failure path with NAGA_DEBUG=1 (banner and locals
summary written to /dev/null), which only happens once per failing run.

Usage: python bench/bench_debug.py [--calls 200000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from naga.debug import unsafe_debug


def passthrough(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def work(x: int, *, y: int = 1) -> int:
    return x + y


def fail(x: int) -> int:
    a = x - x
    return x // a


def per_call_ns(fn: Callable[..., Any], calls: int, rounds: int, *, raises: bool) -> float:
    samples = []
    for _ in range(rounds):
        if raises:
            start = time.perf_counter_ns()
            for i in range(calls):
                try:  # noqa: SIM105 - contextlib.suppress would add its own cost to each call
                    fn(i + 1)
                except ZeroDivisionError:
                    pass
        else:
            start = time.perf_counter_ns()
            for i in range(calls):
                fn(i, y=2)
        samples.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(samples)


def failure_path_us(rounds: int) -> float:
    """One failing call with NAGA_DEBUG=1 on the batch path (stdin is not a terminal)."""
    os.environ["NAGA_DEBUG"] = "1"
    wrapped = unsafe_debug(fail)
    samples = []
    saved = sys.stderr
    with open(os.devnull, "w") as sink:
        sys.stderr = sink
        try:
            for _ in range(rounds):
                start = time.perf_counter_ns()
                try:  # noqa: SIM105 - same shape as the per-call loop
                    wrapped(3)
                except ZeroDivisionError:
                    pass
                samples.append((time.perf_counter_ns() - start) / 1000)
        finally:
            sys.stderr = saved
            del os.environ["NAGA_DEBUG"]
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    os.environ.pop("NAGA_DEBUG", None)
    version = sys.version.split()[0]
    print(f"python {version}, {args.calls} calls x {args.rounds} rounds, median ns/call")
    for label, target, raises in (("ok call", work, False), ("raising call", fail, True)):
        plain = per_call_ns(target, args.calls, args.rounds, raises=raises)
        anchor = per_call_ns(passthrough(target), args.calls, args.rounds, raises=raises)
        naga = per_call_ns(unsafe_debug(target), args.calls, args.rounds, raises=raises)
        print(
            f"{label:13s} plain {plain:7.1f}  passthrough {anchor:7.1f}  unsafe_debug {naga:7.1f}"
            f"  ratio unsafe_debug/passthrough {naga / anchor:.2f}"
        )
    once = failure_path_us(args.rounds * 3)
    print(f"failure path with NAGA_DEBUG=1, no terminal: {once:.0f} us, once per failing run")


if __name__ == "__main__":
    main()
