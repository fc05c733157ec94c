"""Prints repo_state(argv[1]) as JSON, starting at wall-clock time argv[2] (processes at once)."""

import json
import sys
import time

from naga.lock.git import repo_state

# A start line in wall-clock time: all processes hit the ref at the same moment.
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
print(json.dumps(repo_state(sys.argv[1])))
