"""The ``naga`` console script: one module per subcommand."""
