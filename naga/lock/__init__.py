"""The receipt of a run: run.lock, and the two rooms it draws on (git state, data hashes).

Module map (docs/architecture.md has the whole house)::

    naga/lock/
      api.py          runlock(): the public call; builds a Request for assemble
      session.py      a run's life: start_run writes `running`, finish_run the final record
      assemble.py     where the run.lock is assembled: Request -> record -> writer
      record.py       the value of each field: config as plain data, environment, error, times
      origin.py       which file, function and command line a run is (decided where it is
                      launched)
      metrics.py      the metrics section; flatten(): nested mappings as dotted keys
      lineage.py      prevs= / upstream: embed the run.locks of upstream stages
      resolvers.py    ${runlock_data:...} / ${runlock_prev:...} declared in a config
      redact.py       secrets out: config keys, command-line values, URL credentials
      status.py       the status vocabulary (running, completed, ... queued, skipped), once
      interrupt.py    SIGTERM & co. during a run: record `interrupted` (or `requeued` when
                      Slurm will run the job again), then stop
      liveness.py     `lost`: a `running` receipt whose process or Slurm job is gone; the
                      queue first (`requeued`: a job Slurm holds to run again); the Slurm
                      ids (`slurm_id`, the one scancel takes)
      slurm.py        Slurm's queue in one squeue call; is this job being requeued (SIGTERM)?
      attempts.py     a requeued Slurm job's next attempt continues its run (`attempts`)
      format.py       the run.lock format: names, version, field order, YAML, the readers,
                      the integrity digest
      writer.py       merge into run.lock under a file lock; busy check; run.lock.previous
      atomic.py       the one atomic, durable file writer (run.lock, sweep.lock, caches)
      _flock.py       the inter-process lock around read-merge-write
      _cache_dir.py   NAGA_CACHE_DIR / NAGA_NO_CACHE, for both caches
      sqlite_cache.py the SQLite plumbing of the hash cache and the receipt index
      _packages.py    installed distributions, cached (environment.packages)
      git/            git state: repo_state() and snapshots; find_repo_root(); recorded.py
                      looks up recorded commits, snapshot refs and the tree of the code
                      that ran (code identity) for the naga command and results table;
                      remotes.py / publish.py / bundle.py fetch, push and bundle them
      hashing/        files are hashed here: hash_path(), hash_file() and their cache

The rooms lean one way: ``hashing/`` needs only ``sqlite_cache`` (and its ``_cache_dir``);
``git/`` needs ``hashing/`` (large untracked files are recorded by hash) and ``redact``
(remote URLs); the receipt uses both, never the other way round. pygit2 and blake3 are
imported inside the functions that use them, so importing ``naga.lock`` stays cheap.
Nothing here parses a command line or knows a launcher.
"""
