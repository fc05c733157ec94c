"""Hash through the cache as a run does, switch cache files, and exit without cleanup.

Run by tests/lock_hashing/test_cache.py under ``python -X dev -W error::ResourceWarning``:
Python 3.13 reports every sqlite3 connection finalized while open as "unclosed database".
"""

import os
import sys
from pathlib import Path

from naga.lock.hashing import _cold as _hash_cold
from naga.lock.hashing import hash_file, hash_path

data = Path(sys.argv[1])
_hash_cold.COLD_PARENT_FILES = 0  # every subtree to a forked worker, when it can fork
print(hash_path(data)["hash"])
print(hash_file(data / "big" / "big.bin"))
os.environ["NAGA_CACHE_DIR"] = sys.argv[2]  # a second cache file in the same process
print(hash_path(data)["hash"])
