# log.py
from pathlib import Path

import mlflow

from naga import mlflow_lock


def log_run(save_dir):
    """
    Logs the results of a run to MLflow.
    Can be run independently from the main process.
    """
    with mlflow_lock(save_dir) as run:
        # This creates a new MLflow run and links it to your run directory.
        # It automatically logs the contents of run.lock.
        # It also deprecates older MLflow runs for the same save_dir.

        # You can add custom logging here:
        mlflow.log_artifact(str(Path(save_dir) / "out.txt"))
        print(f"Logged artifacts for run: {run.info.run_id}")


if __name__ == "__main__":
    # Assuming process() has already been run
    log_run("results/process")

# The README's "Step 2: Log to MLflow with mlflow_lock", as written there (tests/tracking).
