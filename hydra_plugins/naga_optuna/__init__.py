"""naga's Optuna sweeper: ``hydra/sweeper=naga_optuna`` in a ``@clicfg`` script's sweep.

Asynchronous (a new trial starts as soon as any ends), a run.lock per trial written as it
ends, ``sweep.lock`` holding the best trial so far, the study in an Optuna journal file
beside the receipts (``naga resume``), and a controller that can run as a Slurm job
(``--detach``). The controller itself is naga's (naga.launch.sweepers.controller); this
package only registers the settings, and imports nothing heavy (Hydra imports it at every
start of every app).
"""
