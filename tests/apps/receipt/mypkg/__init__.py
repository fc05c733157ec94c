"""A user's package: run as ``python -m mypkg.train`` or through a console script."""
