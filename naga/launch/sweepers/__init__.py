"""Sweepers that decide the next job from the results of the last ones (searches).

- ``search.py``: where ``run_sweep`` hands a sweep whose ``hydra/sweeper`` is not the grid
  (basic) sweeper: naga's Optuna study, or any other installed Hydra sweeper.
- ``thirdparty.py``: any Hydra sweeper plugin through Hydra's Sweeper API, with naga's task
  (a run.lock per job, each job adding its own entry to sweep.lock).
- ``controller.py``: ``hydra/sweeper=naga_optuna``: its settings and search space, a new or
  resumed study, ``--detach``.
- ``run.py``: a study's trials to its budget (taking over an earlier controller's trials).
- ``slots.py``: where trials run, one ``TrialSlots`` per launcher (in process, a loky pool,
  submitit/Slurm jobs).
- ``record.py``: sweep.lock's trial entries and ``best``, the progress lines.
- ``detached.py``: the controller as a Slurm job, ``naga status`` / ``naga resume`` of a study.
- ``optuna_space.py``: Hydra's sweep grammar (``interval()``, ``tag(log, ...)``, ``range()``,
  ``choice()``, ``a,b,c``) as Optuna distributions, and a suggested value back as an override.
- ``optuna_study.py``: the study beside the receipts (Optuna's journal file in the sweep
  folder), what a resume may change, and the trial budget.
- ``optuna_loop.py``: the ask-and-tell loop (a trial starts as soon as any ends).
"""
