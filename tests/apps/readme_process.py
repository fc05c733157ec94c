# process.py
from pathlib import Path

from naga import runlock


class Config:
    param = 1
    input_path = "data/preprocess/input.csv"
    save_dir = "results/process"


def process(cfg: Config = Config()):
    print(f"Running with param: {cfg.param}")
    # Create dummy input if it doesn't exist
    Path(cfg.input_path).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.input_path).write_text("some data")

    # Core logic
    output_path = Path(cfg.save_dir) / "out.txt"
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with open(output_path, "w") as f:
        for _ in range(cfg.param):
            f.write(Path(cfg.input_path).read_text())
    print(f"Output written to {output_path}")
    runlock(
        config=cfg,
        repos=["."],  # Track the git version of the current repo
        data=[cfg.input_path],  # Hash the input data
        # prevs=[Path(cfg.input_path).parent], # You can also track previous stages
        runlock_path=Path(cfg.save_dir) / "run.lock",
    )


if __name__ == "__main__":
    process()


# The README's "Step 1" process.py, as written there (tests/lock_core, tests/tracking).
