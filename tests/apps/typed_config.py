"""A config class with every value kind that has a Python-only YAML form, its attributes
annotated and unannotated in a mixed order (tests/clicfg/test_printed_config.py)."""

import enum
from pathlib import Path

from naga import clicfg


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Config:
    color = Color.RED
    layers: int = 3
    out = Path("results/out")
    shape = (3, 4)
    extra: tuple = (1, 2)
    seed: int  # required: given on the command line
    big = float("inf")
    small: float = float("-inf")
    nan = float("nan")
    word = "1e3"  # a string OmegaConf's YAML reader would take for a float unless quoted

    class model:
        depth = 2
        ckpt = Path("ckpt/last.pt")

    save_dir = "results/run"


@clicfg
def main(cfg: Config):
    print("out is a", type(cfg.out).__name__)


if __name__ == "__main__":
    main()
