"""Hashes every path of argv three times in random orders through the shared cache; prints
the results as JSON (tests/lock_hashing: eight of these run at once)."""

import json
import random
import sys

from naga.lock.hashing import hash_path

paths = sys.argv[1:]
results: dict[str, dict] = {}
for _ in range(3):
    for p in random.sample(paths, len(paths)):
        r = hash_path(p)
        assert results.setdefault(p, r) == r, (p, r, results[p])
print(json.dumps(results))
