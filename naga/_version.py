"""naga's version, in the one module every other one may import (the package root may not be)."""

__version__ = "0.1.0"
