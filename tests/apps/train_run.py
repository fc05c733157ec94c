"""A user's training script: each run leaves results/run/run.lock (tests/tracking)."""

from naga import clicfg


class Config:
    lr = 0.1
    save_dir = "results/run"


@clicfg
def main(cfg: Config):
    print("trained with lr", cfg.lr)


if __name__ == "__main__":
    main()
