"""The run receipt: assemble, merge and write run.lock (git state, data hashes, lineage)."""
