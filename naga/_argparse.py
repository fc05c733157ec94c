"""The argument parser of naga's command lines: a wrong flag is one line on stderr, exit 2.

argparse's own ``error`` prints the whole usage block and then the error; naga's rule for
every user mistake is one line (``prog: error: what: why; how to fix``), so the usage is
replaced by a pointer to ``--help``. Used by ``@clicfg`` scripts and the ``naga`` command.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from naga.errors import escape_newlines


class OneLineErrorParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr, exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message (see prog --help)`` and exit with code 2."""
        text = escape_newlines(message)
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")
