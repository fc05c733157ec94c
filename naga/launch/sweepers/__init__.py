"""Sweepers that decide the next job from the results of the last ones (optimization).

- ``optuna_space.py``: Hydra's sweep grammar (``interval()``, ``tag(log, ...)``, ``range()``,
  ``choice()``, ``a,b,c``) as Optuna distributions, and a suggested value back as an override.
- ``optuna_study.py``: the study beside the receipts (Optuna's journal file in the sweep
  folder), what a resume may change, and the trial budget.
"""
