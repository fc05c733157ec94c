"""Stage 3: evaluate the model against the prepared data (two upstream stages)."""

from pathlib import Path

from naga import clicfg, runlock


class Config:
    model_dir = "results/train"
    data_dir = "results/prepare"
    save_dir = "results/evaluate"


@clicfg(config_class=Config)
def main(cfg: Config):
    model = float((Path(cfg.model_dir) / "model.txt").read_text())
    out = Path(cfg.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "score.txt").write_text(f"{model / 2:.6f}\n")
    runlock(config=cfg, repos=["."], prevs=[cfg.model_dir, cfg.data_dir])


if __name__ == "__main__":
    main()
