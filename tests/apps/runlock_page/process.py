"""The runlock() examples of the seed's runlock page, run as users run them (tests/lock_core).

The first call is the page's basic example; ``RUNLOCK_EXAMPLE`` picks which of the page's
later snippets runs after it, inside the same main() (so both calls merge into one file).
"""

import os
from pathlib import Path

from naga import runlock


class Config:
    param = 1
    input_path = "data/input.csv"
    save_dir = "results/process"


def main(cfg: Config = Config()):
    # --- Your core logic runs here ---
    # For example, processing data and saving results.
    output_path = Path(cfg.save_dir) / "output.txt"
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text("results")
    # --- Core logic ends ---

    # Create the runlock after the process has successfully completed.
    runlock(
        config=cfg,
        runlock_path=Path(cfg.save_dir) / "run.lock",  # (default if save_dir is in config)
    )
    example = os.environ.get("RUNLOCK_EXAMPLE", "basic")
    if example == "repos_list":
        runlock(
            config=cfg,
            repos=["."],  # Tracks the Git commit of the current directory
        )
    elif example == "repos_dict":
        runlock(config=cfg, repos={"main_project": ".", "shared_library": "../libs/my_lib"})
    elif example == "data_list":
        runlock(
            config=cfg,
            repos=["."],
            data=[cfg.input_path],  # Hashes the file at cfg.input_path
        )
    elif example == "data_dict":
        runlock(
            config=cfg,
            repos=["."],
            data={"raw_dataset": cfg.input_path, "validation_set": "data/validation.csv"},
        )
    elif example == "prevs":
        runlock(
            config=cfg,
            repos=["."],
            data=[cfg.input_path],
            prevs=[Path(cfg.input_path).parent],  # Path to the directory of the previous stage
        )


if __name__ == "__main__":
    main()
