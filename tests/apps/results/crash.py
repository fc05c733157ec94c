"""A stage that fails when asked: the report's failed-run cards and escaping (tests/results)."""

from naga import clicfg


class Config:
    note = "plain"
    fail = False
    save_dir = "results/crash"


@clicfg(config_class=Config)
def main(cfg: Config):
    if cfg.fail:
        raise ValueError(f"diverged at step 3 ({cfg.note})")
    return {"loss": 0.5}


if __name__ == "__main__":
    main()
