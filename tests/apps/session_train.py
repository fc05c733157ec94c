"""An integrator's own run loop on naga.lock.session (start_run, finish_run), runlock() inside."""

import sys

from naga import runlock
from naga.lock.session import finish_run, start_run


def train(cfg):
    runlock(cfg, repos=[sys.argv[1]] if len(sys.argv) > 1 else None)
    if cfg["fail"]:
        raise RuntimeError("diverged")


cfg = {"save_dir": "runs/a", "fail": "--fail" in sys.argv, "api_key": "sk-123"}
ctx = start_run(lock_path="runs/a/run.lock", function=train)
try:
    train(cfg)
except Exception as exc:
    finish_run(ctx, config=cfg, status="failed", error=exc)
    raise
finish_run(ctx, config=cfg, status="completed")
