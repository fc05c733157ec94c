"""Imports naga once, then forks a runlock() writer per line on stdin (tests/lock_core).

Each writer rewrites the run.lock in a loop until the test SIGKILLs it.
"""

import hashlib
import os
import sys

from naga.lock import record  # warm imports and caches before forking
from naga.lock.api import runlock
from naga.lock.format import loads

record.environment()
loads("a: 1")

path = sys.argv[1]
for _command in sys.stdin:
    pid = os.fork()
    if pid == 0:
        i = 0
        while True:
            blob = os.urandom(1 + i % 4096).hex()
            digest = hashlib.sha256(blob.encode()).hexdigest()
            runlock({"i": i, "blob": blob, "digest": digest}, runlock_path=path)
            if i == 0:
                print(f"ready {os.getpid()}", flush=True)
            i += 1
    os.waitpid(pid, 0)
    print("dead", flush=True)
