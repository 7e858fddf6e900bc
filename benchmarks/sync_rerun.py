"""A full sync of many tags sharing base layers, then the no-op rerun.

Seeds REPOS repositories x TAGS tags (two shared base layers, a top layer of its
own per image) into a local registry, syncs them all into a second registry with
``regcopy sync``, then runs the same sync again (RERUNS times, the median kept).
Reports both wall times, the ratio, and the HTTP requests each run sent (from the
registries' own logs). ``--top-kb`` takes a comma-separated list: each size gets
fresh registries, so the table shows how the ratio depends on what the first run
had to move.

    .venv/bin/python -m benchmarks.sync_rerun --repos 20 --tags 10 --top-kb 1000,5000,20000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.seed import Seeder, random_layer
from tests.servers.registry import RegistryServer

BASE_LAYER_BYTES = (2_000_000, 1_000_000)


def run_sync(config: Path, cache: Path) -> float:
    begin = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "regcopy.cli", "sync", "-q", str(config), "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - begin
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return seconds


def measure(repos: int, tags: int, top_kb: int, reruns: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="regcopy-bench-") as tmp:
        root = Path(tmp)
        src = RegistryServer(root, name="src").start()
        dst = RegistryServer(root, name="dst").start()
        try:
            seeder = Seeder(src.host)
            base = [random_layer(size) for size in BASE_LAYER_BYTES]
            for r in range(repos):
                for t in range(tags):
                    seeder.push_image(f"bench/app{r}", f"v{t}", layers=[*base, random_layer(top_kb * 1000)])
            seeder.close()
            config = root / "sync.json"
            config.write_text(
                json.dumps({"jobs": [{"source": f"{src.host}/bench/", "destination": f"{dst.host}/bench/"}]})
            )
            # each requests() call adds one marker request to each log, not counted below
            before = len(src.requests()) + len(dst.requests())
            first = run_sync(config, root / "cache")
            mid = len(src.requests()) + len(dst.requests())
            rerun_times = [run_sync(config, root / "cache") for _ in range(reruns)]
            end = len(src.requests()) + len(dst.requests())
        finally:
            src.stop()
            dst.stop()
    total_tags = repos * tags
    rerun = statistics.median(rerun_times)
    rerun_requests = (end - mid - 2) / reruns
    return {
        "tags": total_tags,
        "top_layer_kb": top_kb,
        "first_run_mb": round(total_tags * top_kb / 1000 + sum(BASE_LAYER_BYTES) / 1e6, 1),
        "first_run_seconds": round(first, 2),
        "rerun_seconds": round(rerun, 2),
        "rerun_seconds_all": [round(t, 2) for t in rerun_times],
        "rerun_vs_first": round(rerun / first, 3),
        "first_run_requests": mid - before - 2,
        "rerun_requests": round(rerun_requests),
        "rerun_requests_per_tag": round(rerun_requests / total_tags, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--top-kb", default="1000", help="size(s) of each image's own top layer, comma-separated")
    parser.add_argument("--reruns", type=int, default=3, help="no-op reruns per size; the median is reported")
    args = parser.parse_args()
    sizes = [int(part) for part in args.top_kb.split(",") if part.strip()]
    results = [measure(args.repos, args.tags, size, args.reruns) for size in sizes]
    print(json.dumps(results if len(results) > 1 else results[0], indent=2))
    print("\n| top layer | first run moves | first run | rerun (median) | rerun / first | requests first / rerun |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['top_layer_kb'] / 1000:g} MB | {r['first_run_mb']:g} MB | {r['first_run_seconds']} s "
            f"| {r['rerun_seconds']} s | {r['rerun_vs_first'] * 100:.1f} % "
            f"| {r['first_run_requests']} / {r['rerun_requests']} ({r['rerun_requests_per_tag']} per tag) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
