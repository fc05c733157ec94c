"""submitit launchers (Slurm, submitit_local): naga submits the jobs itself.

- ``launcher.py``: the launchers (``Slurm``, ``Local``): prepare, run and wait, ``--detach``.
- ``submit.py``: the executor from the plugin's settings, submission, waiting per job.
- ``arrays.py``: ``tasks_per_job`` packing, arrays cut to the cluster's ``MaxArraySize``.
- ``isolate.py``: jobs import the submitted code; ``requeue.py``: preemption and time limits.
- ``queue.py``: the cluster's array limit;
  ``settings.py``: ``--slurm_config FILE``.
"""
