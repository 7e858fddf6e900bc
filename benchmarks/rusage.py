"""Run a command and write its wall time, CPU time and peak RSS as JSON: ``python -m benchmarks.rusage OUT CMD...``.

The harness holds seeded data in memory; a child it spawns directly inherits (fork) or shares
(vfork) that memory until it execs, and the kernel books the harness's resident size as the
child's peak. Measured from this small process instead, the peak is the contender's own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    begin = time.perf_counter()
    code = subprocess.call(argv, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - begin
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as handle:
        json.dump(
            {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024, "code": code},
            handle,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
