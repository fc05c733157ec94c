"""The user's script of the verdict suite (tests/verdicts): one knob per kind of change.

- config: ``lr`` scales the model; ``workers`` changes nothing but the config, as a data
  loader's worker count would;
- data: the numbers in ``data/numbers.txt`` (git-ignored), recorded with ``data=``;
- code: ``SCALE`` below, which the suite edits (committed, or left uncommitted);
- inputs the receipt does not record, standing for an unseeded random generator or a
  nondeterministic GPU kernel: ``VERDICT_JITTER`` shifts the loss by that relative amount,
  and ``VERDICT_STAMP`` goes into the bytes of ``log.txt``, as a timestamp or a host name
  would.

Its metrics are its return value: ``loss`` (a float) and ``n`` (an int).
"""

import os
from pathlib import Path

from naga import clicfg, runlock

SCALE = 1.0


class Config:
    lr = 0.1
    workers = 2
    data = "data/numbers.txt"
    save_dir = "results/run"


@clicfg(config_class=Config)
def main(cfg: Config) -> dict[str, float]:
    numbers = [float(x) for x in Path(cfg.data).read_text().split()]
    weight = SCALE * cfg.lr * sum(numbers)
    out = Path(cfg.save_dir)
    (out / "model.txt").write_text(f"{weight!r}\n")
    stamp = os.environ.get("VERDICT_STAMP", "")
    (out / "log.txt").write_text(f"trained on {len(numbers)} numbers{stamp}\n")
    runlock(config=cfg, data=[cfg.data])
    jitter = float(os.environ.get("VERDICT_JITTER", "0"))
    return {"loss": 1 / (1 + weight) * (1 + jitter), "n": len(numbers)}


if __name__ == "__main__":
    main()
