"""What a sweep leaves and how it is read: ``sweep.lock``, progress, status.

- ``files.py``: where the records are (``sweep.lock``, the folder's history of earlier
  sweeps) and a job's error as one line; the floor the other modules stand on.
- ``sweeplock.py``: the file (``SweepState``, ``JobRecord``), read and written atomically.
- ``sync.py``: a job keeps its own entry current, from any node.
- ``claim.py``: one sweep per folder; finished sweeps' records kept in history.
- ``progress.py``: the launching process watches its jobs (``Monitor``) and sums up.
- ``outcome.py``: how a job ended, applied to its record (``apply_results``, every launcher).
- ``relaunch.py``: sweep.lock's ``launch``: how the sweep started, to start it again.
- ``status.py``: a sweep's state now, from sweep.lock, run.locks and the queue.
"""
