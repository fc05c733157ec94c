"""Where the jobs of a sweep run: one launcher per Hydra launcher plugin naga knows.

- ``task.py``: the callable every launcher runs for a job (``SweepTask``).
- ``inprocess.py``: the basic launcher, in this process.
- ``joblib_pool.py``: loky workers with the joblib plugin's settings.
- ``submitit/``: Slurm and submitit_local, submitted by naga.
"""
