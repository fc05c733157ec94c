"""The hashing tests run below a hostile directory name (spaces, quotes, ``;``, ``$``, a
newline, unicode): ``tmp_path`` here is :func:`helpers.hostile_tmp_path`."""

from helpers import hostile_tmp_path  # noqa: F401  # this folder's tmp_path
