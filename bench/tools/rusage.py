#!/usr/bin/env python3
"""Runs a command and reports its peak RSS and wall time on the last line of stderr:
RUSAGE {"rc": 0, "maxRssKb": 11264, "wallMs": 812.5}
(getrusage of the waited-for children: the command's own memory, not this wrapper's)."""
import json
import resource
import subprocess
import sys
import time

start = time.monotonic()
rc = subprocess.call(sys.argv[1:])
wall_ms = (time.monotonic() - start) * 1000
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write("\nRUSAGE " + json.dumps({"rc": rc, "maxRssKb": usage.ru_maxrss, "wallMs": wall_ms}) + "\n")
sys.exit(rc if rc >= 0 else 128 - rc)
