"""What a sweep will run, decided before anything runs.

- ``hydra_session.py``: the sweep's Hydra session (compose once, expand the grid, the
  launcher plugin's object).
- ``compose.py``: every job's config derived from the one composed base (``JobConfigs``).
- ``handoff.py``: the override that carries a job's config to wherever it runs
  (``JobOverride``, ``PrecomposedLoader``).
- ``naming.py``: the jobs' directory names; ``tasks.py``: tasks files as override lists.
- ``skip.py``: ``--skip-completed``; ``preview.py``: ``--cfg`` of a sweep.
"""
