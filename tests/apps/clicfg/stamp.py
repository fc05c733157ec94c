"""Interpolations resolved once per run: ${now:...} read twice gives one value."""

import time

from naga import clicfg


class Config:
    stamp = "${now:%H-%M-%S-%f}"
    mirror = "${stamp}"


@clicfg(config_class=Config)
def main(cfg):
    first = cfg.stamp
    time.sleep(0.01)
    print(first, cfg.stamp, cfg.mirror)


if __name__ == "__main__":
    main()
