"""A lab's own Hydra sweeper plugin, kept in its repository (tests/sweepers)."""
