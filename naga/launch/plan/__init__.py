"""What a sweep will run, decided before anything runs.

- ``hydra_session.py``: the sweep's Hydra session through Hydra's public API (compose
  once, expand the grid, the launcher plugin's object); private API in ``naga._hydra_compat``.
- ``jobs.py``: the one builder of a sweep's jobs (new, resumed, searched): configs, launch
  lists, sweep.lock records.
- ``compose.py``: every job's config derived from the one composed base (``JobConfigs``).
- ``handoff.py``: the override that carries a job's config to wherever it runs
  (``JobOverride``, ``PrecomposedLoader``).
- ``naming.py``: the jobs' directory names; ``tasks.py``: tasks files as override lists.
- ``skip.py``: ``--skip-completed``; ``preview.py``: ``--cfg`` of a sweep.
"""
