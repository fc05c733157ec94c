"""Sweeps and tasks through Hydra's sweeper and launcher plugins; sweep.lock and progress."""
