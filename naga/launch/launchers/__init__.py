"""Where the jobs of a sweep run: one launcher per Hydra launcher plugin, behind one protocol.

- ``base.py``: the protocol (``Launcher``, its ``Capabilities``, ``Launch``: what it is given).
- ``registry.py``: launcher names -> implementations; the only place names are compared.
  Adding a launcher: one module here and one line in ``registry.LAUNCHERS``.
- ``task.py``: the callable every launcher runs for a job (``SweepTask``).
- ``inprocess.py``: the basic launcher, in this process (``InProcess``).
- ``joblib_pool.py``: loky workers with the joblib plugin's settings (``JoblibPool``).
- ``plugin.py``: any other Hydra launcher plugin, which launches the jobs itself.
- ``submitit/``: Slurm and submitit_local, submitted by naga (``Slurm``, ``Local``).
"""
