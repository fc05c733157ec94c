"""Sweepers that decide the next job from the results of the last ones (searches):

search.py         hydra/sweeper other than the grid: naga's study or a Hydra plugin
thirdparty.py     any Hydra sweeper plugin, each job adding its own sweep.lock entry
controller.py     hydra/sweeper=naga_optuna: settings, search space, new or resumed study
run.py            a study's trials to its budget (an earlier controller's taken over)
slots.py          where trials run: one TrialSlots per launcher
record.py         sweep.lock's trial entries and ``best``, the progress lines
detached.py       the controller as a Slurm job; status and resume of a study
optuna_space.py   Hydra's sweep grammar as Optuna distributions, and values back
optuna_study.py   the study's journal beside the receipts, what a resume may change
optuna_loop.py    the ask-and-tell loop (a trial starts as soon as any ends)
"""
