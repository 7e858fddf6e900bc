"""A full sync of many tags sharing base layers, then the no-op rerun.

Seeds REPOS repositories x TAGS tags (two shared base layers, a small top layer
per image) into a local registry, syncs them all into a second registry with
``regcopy sync``, then runs the same sync again. Reports both wall times, the
ratio, and the HTTP requests each run sent (from the registries' own logs).

    .venv/bin/python -m benchmarks.sync_rerun --repos 20 --tags 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.seed import Seeder, random_layer
from tests.servers.registry import RegistryServer


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--top-kb", type=int, default=20, help="size of each image's own top layer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="regcopy-bench-") as tmp:
        root = Path(tmp)
        src = RegistryServer(root, name="src").start()
        dst = RegistryServer(root, name="dst").start()
        try:
            seeder = Seeder(src.host)
            base = [random_layer(2_000_000), random_layer(1_000_000)]
            for r in range(args.repos):
                for t in range(args.tags):
                    seeder.push_image(f"bench/app{r}", f"v{t}", layers=[*base, random_layer(args.top_kb * 1000)])
            seeder.close()
            config = root / "sync.json"
            config.write_text(
                json.dumps({"jobs": [{"source": f"{src.host}/bench/", "destination": f"{dst.host}/bench/"}]})
            )
            src_before, dst_before = len(src.requests()), len(dst.requests())
            first = run_sync(config, root / "cache")
            src_mid, dst_mid = len(src.requests()), len(dst.requests())
            second = run_sync(config, root / "cache")
            src_end, dst_end = len(src.requests()), len(dst.requests())
        finally:
            src.stop()
            dst.stop()
    tags = args.repos * args.tags
    # each requests() call adds one marker request, not counted here
    report = {
        "tags": tags,
        "top_layer_kb": args.top_kb,
        "first_run_seconds": round(first, 2),
        "rerun_seconds": round(second, 2),
        "rerun_vs_first": round(second / first, 3),
        "first_run_requests": (src_mid - src_before - 1) + (dst_mid - dst_before - 1),
        "rerun_requests": (src_end - src_mid - 1) + (dst_end - dst_mid - 1),
        "rerun_requests_per_tag": round(((src_end - src_mid - 1) + (dst_end - dst_mid - 1)) / tags, 2),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
