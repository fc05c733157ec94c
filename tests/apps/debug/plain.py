import json
from dataclasses import dataclass

from naga import unsafe_debug


@dataclass
class Config:
    param: int = 3


def helper(text):
    inner = text.strip()
    return json.loads(inner)  # fails deep inside the stdlib


@unsafe_debug
def deep(cfg: Config):
    outer = "kept"
    return helper(" {")


@unsafe_debug
def main(cfg: Config):
    a = cfg.param - 3
    b = 1 / a
    return b


if __name__ == "__main__":
    import inspect
    import sys

    if "no-ipython" in sys.argv:
        sys.modules["IPython"] = None  # type: ignore[assignment]  # as if not installed
    if "deep" in sys.argv:
        deep(Config())
    elif "undecorated" in sys.argv:
        inspect.unwrap(main)(Config())
    else:
        main(Config())


# tests/debug copies this to process.py and asserts line numbers in it.
