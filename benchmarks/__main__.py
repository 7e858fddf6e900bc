"""``python -m benchmarks run``: regcopy, skopeo and the curl floor side by side on local registries."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.harness import CONTENDERS, SEEDERS, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("run", help="seed datasets and run every contender on them, alternating")
    bench.add_argument("--datasets", default="shared,many,index", help=f"comma-separated: {', '.join(SEEDERS)}")
    bench.add_argument("--contenders", default="regcopy,skopeo,floor", help=f"comma-separated: {', '.join(CONTENDERS)}")
    bench.add_argument("--repeat", type=int, default=3, help="runs per contender and dataset (median reported)")
    bench.add_argument("--concurrency", type=int, default=8, help="blobs in flight for regcopy and the floor")
    bench.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args()
    return run(args.datasets.split(","), args.contenders.split(","), args.repeat, args.concurrency, args.out)


if __name__ == "__main__":
    sys.exit(main())
