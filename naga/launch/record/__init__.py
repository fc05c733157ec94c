"""What a sweep leaves and how it is read: ``sweep.lock``, progress, status.

- ``sweeplock.py``: the file (``SweepState``, ``JobRecord``), read and written atomically.
- ``sync.py``: a job keeps its own entry current, from any node.
- ``claim.py``: one sweep per folder; finished sweeps' records kept in history.
- ``progress.py``: the launching process watches its jobs (``Monitor``) and sums up.
- ``status.py``: a sweep's state now, from sweep.lock, run.locks and the queue.
"""
