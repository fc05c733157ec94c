"""Stage 2: "train" on the prepared numbers; `time` is an ordinary user key."""

from pathlib import Path

from naga import clicfg, runlock


class Config:
    data_dir = "results/prepare"
    lr = 0.1
    time = 1
    fail = False
    save_dir = "results/train"


@clicfg(config_class=Config)
def main(cfg: Config):
    if cfg.fail:
        raise RuntimeError("asked to fail")
    values = [int(x) for x in (Path(cfg.data_dir) / "prepared.txt").read_text().split()]
    out = Path(cfg.save_dir)
    (out / "metrics").mkdir(parents=True, exist_ok=True)
    (out / "model.txt").write_text(f"{sum(values) * cfg.lr * cfg.time:.6f}\n")
    (out / "metrics" / "loss.txt").write_text(f"{1 / (1 + sum(values) * cfg.lr):.6f}\n")
    runlock(config=cfg, repos=["."], data=[f"{cfg.data_dir}/prepared.txt"], prevs=[cfg.data_dir])


if __name__ == "__main__":
    main()
