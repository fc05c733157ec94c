"""A second stage: its bare-number return value is recorded as metrics.value (tests/results)."""

from naga import clicfg


class Config:
    split = "test"
    save_dir = "results/score"


@clicfg(config_class=Config)
def main(cfg: Config):
    return 0.75 if cfg.split == "test" else 0.5


if __name__ == "__main__":
    main()
