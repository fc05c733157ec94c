"""Stage 1: scale the raw numbers (deterministic)."""

from pathlib import Path

from naga import clicfg, runlock


class Config:
    input_path = "data/raw.csv"
    scale = 2
    save_dir = "results/prepare"


@clicfg(config_class=Config)
def main(cfg: Config):
    rows = Path(cfg.input_path).read_text().split()
    out = Path(cfg.save_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "prepared.txt").write_text("".join(f"{int(x) * cfg.scale}\n" for x in rows))
    runlock(config=cfg, repos=["."], data=[cfg.input_path])


if __name__ == "__main__":
    main()
