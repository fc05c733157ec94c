"""``naga report``: the runs below some directories as one self-contained HTML file.

Module map:

- ``build``: from directories to the page's JSON document (rows, groups, charts, cards,
  summary, provenance); the one entry point, :func:`build`.
- ``groups``: the default grouping rule, which way each metric is better, and each group's
  numbers (those of ``naga ls --group-by``, plus the 95% interval and the best run).
- ``stats``: Student's t quantile and the 95% interval of a mean, without scipy.
- ``charts``: which charts to draw (``naga plot --json`` documents, parallel coordinates,
  the objective by trial).
- ``cards``: what a run's card shows beyond its row, read from its run.lock through the
  receipt index (table ``cards``).
- ``page``: the HTML file: Plotly's bundle, the vendored Tabulator and ``assets/`` inline,
  the document as escaped JSON.

Plotly is imported by :func:`naga.results.report.page.plotly_js` only (the ``report``
extra); nothing here is imported by ``import naga`` or by other ``naga`` subcommands.
"""
