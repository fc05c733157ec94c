"""The package's entry point (``[project.scripts] train-cli = "mypkg.train:main"``)."""

from pathlib import Path

from naga import clicfg


class Config:
    lr = 0.1
    save_dir = "results/train"


@clicfg(config_class=Config)
def main(cfg: Config) -> None:
    """Train (a stand-in)."""
    Path(cfg.save_dir).mkdir(parents=True, exist_ok=True)
    Path(cfg.save_dir, "out.txt").write_text(f"lr={cfg.lr}\n")


if __name__ == "__main__":
    main()
