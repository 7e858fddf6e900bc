"""``python -m benchmarks run|tune``: regcopy, skopeo and the curl floor side by side on local registries.

python -m benchmarks run                                  # shared, many, index on loopback
python -m benchmarks run --datasets shared --link 20      # 20 ms added each way
python -m benchmarks run --datasets big --contenders regcopy,floor
python -m benchmarks tune --link 20,100 --plot docs/benchmarks/tune.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.harness import CONTENDERS, SEEDERS, Link, run, tune


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    link_help = "add latency and a bandwidth cap between copier and registries: MS (each way) or MS,MBPS"

    bench = commands.add_parser("run", help="seed datasets and run every contender on them, alternating")
    bench.add_argument("--datasets", default="shared,many,index", help=f"comma-separated: {', '.join(SEEDERS)}")
    bench.add_argument(
        "--contenders", default="regcopy,skopeo,skopeo-copy,floor", help=f"comma-separated: {', '.join(CONTENDERS)}"
    )
    bench.add_argument("--repeat", type=int, default=3, help="runs per contender and dataset (median reported)")
    bench.add_argument("--concurrency", type=int, default=8, help="blobs (or copies) in flight for each contender")
    bench.add_argument("--link", default=None, metavar="MS[,MBPS]", help=link_help)
    bench.add_argument("--no-noop", action="store_true", help="skip the no-op rerun scenario")
    bench.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")

    sweep = commands.add_parser("tune", help="sweep regcopy's concurrency and read buffer; print the settings to use")
    sweep.add_argument("--dataset", default="shared", choices=sorted(SEEDERS))
    sweep.add_argument("--concurrency", type=_ints, default=[1, 2, 4, 8, 16, 32], help="values to try, e.g. 1,4,16")
    sweep.add_argument(
        "--read-buffer", type=_ints, default=[256 * 1024, 1024 * 1024, 4 * 1024 * 1024], help="bytes, e.g. 262144"
    )
    sweep.add_argument("--repeat", type=int, default=1)
    sweep.add_argument("--link", default=None, metavar="MS[,MBPS]", help=link_help)
    sweep.add_argument("--plot", type=Path, default=None, help="write a PNG of throughput against concurrency")
    sweep.add_argument(
        "--source", default=None, metavar="HOST[/PREFIX]", help="sweep against given registries: copy this ..."
    )
    sweep.add_argument(
        "--destination", default=None, metavar="HOST[/PREFIX]", help="... into new tune-* repositories under this"
    )
    sweep.add_argument("--insecure-registry", action="append", default=[], metavar="HOST", help="passed to regcopy")

    commands.add_parser("plan", help="expected wall time of a sharded migration (python -m benchmarks plan --help)")

    if len(sys.argv) > 1 and sys.argv[1] == "plan":
        from benchmarks.planning import main as plan_main

        return plan_main(sys.argv[2:])
    args = parser.parse_args()
    if args.command == "tune":
        if bool(args.source) != bool(args.destination):
            parser.error("--source and --destination go together")
        return tune(
            args.dataset,
            args.concurrency,
            args.read_buffer,
            args.repeat,
            Link.parse(args.link),
            args.plot,
            args.source,
            args.destination,
            args.insecure_registry,
        )
    scenarios = ("full",) if args.no_noop else ("full", "noop")
    return run(
        args.datasets.split(","),
        args.contenders.split(","),
        args.repeat,
        args.concurrency,
        args.out,
        Link.parse(args.link),
        scenarios,
    )


if __name__ == "__main__":
    sys.exit(main())
