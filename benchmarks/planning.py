"""Expected wall time of a migration split over N shards, from measured per-tag and per-byte costs.

    python -m benchmarks plan --tags 20000 --repos 2000 --gb 800 --link-mbps 1250 --rtt-ms 2 --shards 1,2,4,8,16

The model, per shard (one machine each):
- tags cost CPU (``--cpu-ms-per-tag`` on one core; a machine has ``--cores``) and round trips
  (``--requests-per-tag`` x RTT, ``--jobs`` tags in flight): whichever is slower;
- bytes move at the smaller of the machine's link share (``--link-mbps``, MB/s, per machine) and what
  one regcopy process pushes through (``--process-mbps``);
- the CCR inventory is listed at the API's rate (100 calls/s per account, shared by all shards), one call per
  100 repositories plus one per repository (its tags).
Shards are assumed to get equal shares (the hash split is within a few percent for thousands of
repositories); the destination registry is assumed not to be the bottleneck.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

# Measured on the project's 2-core machine (docs/benchmarks.md): the `many` dataset with 20 ms added each way,
# and the 1 GiB `big` image on loopback.
CPU_MS_PER_TAG = 18.0
REQUESTS_PER_TAG = 8.1
PROCESS_MBPS = 124.0
API_CALLS_PER_SECOND = 100.0


@dataclass(frozen=True)
class Inventory:
    repositories: int
    tags: int
    gigabytes: float


def shard_seconds(
    inventory: Inventory,
    shards: int,
    *,
    link_mbps: float,
    rtt_ms: float,
    cores: int = 2,
    jobs: int = 64,
    cpu_ms_per_tag: float = CPU_MS_PER_TAG,
    requests_per_tag: float = REQUESTS_PER_TAG,
    process_mbps: float = PROCESS_MBPS,
) -> dict[str, float]:
    tags = inventory.tags / shards
    by_cpu = tags * cpu_ms_per_tag / 1000 / cores
    by_latency = tags * requests_per_tag * rtt_ms / 1000 / jobs
    by_bytes = inventory.gigabytes * 1000 / shards / min(link_mbps, process_mbps)
    listing = (inventory.repositories / 100 + inventory.repositories) / API_CALLS_PER_SECOND
    return {
        "tags": max(by_cpu, by_latency),
        "bytes": by_bytes,
        "listing": listing,
        "total": listing + max(by_cpu, by_latency) + by_bytes,
    }


def hms(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def table(inventory: Inventory, shard_counts: list[int], **costs: float) -> str:
    lines = [
        "| shards | tags (per shard) | bytes (per shard) | inventory listing | expected wall time |",
        "|---|---|---|---|---|",
    ]
    for n in shard_counts:
        t = shard_seconds(inventory, n, **costs)  # type: ignore[arg-type]
        lines.append(f"| {n} | {hms(t['tags'])} | {hms(t['bytes'])} | {hms(t['listing'])} | {hms(t['total'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--repos", type=int, required=True)
    parser.add_argument("--tags", type=int, required=True)
    parser.add_argument("--gb", type=float, required=True, help="unique bytes to move, in GB")
    parser.add_argument("--link-mbps", type=float, required=True, help="per machine, MB/s (1 Gbit/s = 125)")
    parser.add_argument("--rtt-ms", type=float, default=2.0)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=64)
    parser.add_argument("--shards", default="1,2,4,8,16")
    args = parser.parse_args(argv)
    inventory = Inventory(args.repos, args.tags, args.gb)
    counts = [int(x) for x in args.shards.split(",")]
    print(
        f"{args.repos} repositories, {args.tags} tags, {args.gb:g} GB; {args.link_mbps:g} MB/s and {args.rtt_ms:g} ms"
        f" RTT per machine, {args.cores} cores, --jobs {args.jobs}\n"
    )
    print(table(inventory, counts, link_mbps=args.link_mbps, rtt_ms=args.rtt_ms, cores=args.cores, jobs=args.jobs))
    return 0
