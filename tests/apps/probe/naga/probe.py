"""A naga app whose jobs record what they see (tests/launch/test_launcher_differential.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _record import CONFIG, record

from naga import clicfg


@clicfg(config_class=CONFIG)
def main(cfg) -> None:
    record(cfg, Path(cfg.save_dir))


if __name__ == "__main__":
    main()
