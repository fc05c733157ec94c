"""From runs to results: every run below a directory as a table, fast.

Module map:

- ``locks``: run.lock files on disk: the one walk finding them, ``Run`` and its loaders,
  where every ``naga`` subcommand starts.
- ``_read``: one run.lock as one flat row (``config.*``, ``metrics.*``, ``data.*`` columns).
- ``index``: every run.lock below some directories, through an index of rows in naga's
  cache, validated per file, so that an unchanged receipt is never parsed twice.
- ``query``: ``--where``, ``--sort``, ``--group-by`` and column names over plain rows.
- ``frame``: :func:`naga.runs`, the rows as a typed pandas DataFrame (pandas imported there).
- ``plot``: a metric against a config key across runs (matplotlib imported there).
- ``report``: ``naga report``, every run in one self-contained HTML file (plotly imported
  there); its own module map is in ``report/__init__.py``.

Nothing here is imported by ``import naga``; ``naga.runs`` loads ``frame`` on first use.
Receipts are read with :func:`naga.lock.format.read_lock` (its validation and its error
messages), the same reader every ``naga`` subcommand uses.
"""
