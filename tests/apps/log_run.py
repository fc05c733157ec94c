"""A user's logging script: ``python log_run.py DIR`` logs DIR with mlflow_lock (tests/tracking)."""

import sys

from naga import mlflow_lock

if __name__ == "__main__":
    with mlflow_lock(sys.argv[1]) as run:
        print(f"logged as {run.info.run_id}")
