"""An upstream stage whose save_dir is data/, so data/run.lock exists for the prevs example."""

from pathlib import Path

from naga import runlock


class Config:
    save_dir = "data"


def main(cfg=Config()):
    Path(cfg.save_dir).mkdir(exist_ok=True)
    Path(cfg.save_dir, "input.csv").write_text("a,b\n1,2\n")
    runlock(config=cfg)


if __name__ == "__main__":
    main()
