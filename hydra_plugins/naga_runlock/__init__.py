"""naga's Hydra callback plugin: a run.lock in every job's output directory.

Select it in any plain ``@hydra.main`` app with ``hydra/callbacks=naga_runlock`` (on the
command line or in the app's defaults list). Hydra imports every module under
``hydra_plugins`` at each app start, so this package imports nothing heavy: the callback
loads naga's lock code only when a job starts.
"""
