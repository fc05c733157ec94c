"""Sweeps through Hydra's sweepers and launchers, each job with its receipt.

Module map, top to bottom (docs/architecture.md has the layer table a test checks)::

    naga/launch/
      sweep.py      run_sweep(): a sweep from the command line to its summary
      sweepers/     searches: naga's Optuna study, any Hydra sweeper plugin
      resume.py     `naga resume`: a recorded sweep's unfinished jobs again
      dispatch.py   the launcher gets ready; this process waits, or --detach returns
      launchers/    where jobs run: the protocol (base.py), the registry, one module
                    per launcher (in process, joblib, submitit/, any Hydra plugin)
      plan/         what will run: the Hydra session, each job's config, names, tasks
      record/       what a sweep leaves: sweep.lock, progress, outcomes, status
      job.py        one job in its own process: start_job(...).call()
      options.py    the sweep flags
"""
