"""The cluster's array size limit; the queue reader (naga.lock.slurm) re-exported for launch."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

from naga.lock.slurm import PENDING, RUNNING, QueueView, slurm_queue

__all__ = ["PENDING", "RUNNING", "QueueView", "max_array_size", "slurm_queue"]

#: Slurm's default MaxArraySize (slurm.conf), used when the cluster does not say.
DEFAULT_MAX_ARRAY_SIZE = 1001


@functools.lru_cache(maxsize=1)
def max_array_size() -> int:
    """The cluster's MaxArraySize (array indices go up to one less), or Slurm's default."""
    if shutil.which("scontrol") is None:
        return DEFAULT_MAX_ARRAY_SIZE
    try:
        done = subprocess.run(
            ["scontrol", "show", "config"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_MAX_ARRAY_SIZE
    found = re.search(r"^MaxArraySize\s*=\s*(\d+)", done.stdout, re.MULTILINE)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else DEFAULT_MAX_ARRAY_SIZE
