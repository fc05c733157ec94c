"""A fork server for the SIGKILL test of the hash cache (tests/lock_hashing).

Forking a ready interpreter per trial keeps 200+ kills fast. Each child hashes in a loop and
deletes cache rows between rounds so that it keeps writing.
"""

import os
import random
import sys
import traceback

from naga.lock import hashing
from naga.lock.hashing import _cache as _hash_cache

paths = sys.argv[1:]
for _line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            rnd = random.Random(os.getpid())
            while True:
                for p in rnd.sample(paths, len(paths)):
                    hashing.hash_path(p)
                cache = _hash_cache.get_cache(None)
                assert cache is not None  # the test runs with the cache on
                cache._write(
                    [
                        ("DELETE FROM dirs WHERE ino % 3 = ?", [(rnd.randrange(3),)]),
                        ("DELETE FROM trees WHERE size % 2 = ?", [(rnd.randrange(2),)]),
                    ]
                )
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
