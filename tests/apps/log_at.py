"""``python log_at.py DIR START``: log DIR with mlflow_lock from wall-clock time START on,
holding the run open a moment (tests/tracking: four of these race on a new store)."""

import sys
import time

from naga import mlflow_lock

start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # all four start together
with mlflow_lock(sys.argv[1]) as run:
    time.sleep(0.3)
print(run.info.run_id)
