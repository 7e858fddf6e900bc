"""Peak memory and throughput of copying one image with a single large layer.

Starts two local registries, pushes an image whose only layer is SIZE bytes of
random data (streamed, so the seeding itself stays small), then copies it with
``regcopy copy`` in a child process and reads the child's peak RSS from
``getrusage``. For scale it also times the floor: the same blob piped by
``curl`` from a source GET into a destination PUT.

    .venv/bin/python -m benchmarks.big_rss --size-mib 1024
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from tests.seed import DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST, Seeder
from tests.servers.registry import RegistryServer

CHUNK = 1024 * 1024


def random_stream(size: int, hasher: hashlib._Hash) -> Iterator[bytes]:
    """Incompressible bytes: a random 1 MiB block salted per chunk, so no two chunks repeat."""
    block = os.urandom(CHUNK)
    sent = 0
    counter = 0
    while sent < size:
        piece = hashlib.sha256(counter.to_bytes(8, "big")).digest() + block[32:]
        piece = piece[: min(CHUNK, size - sent)]
        hasher.update(piece)
        sent += len(piece)
        counter += 1
        yield piece


def push_big_image(host: str, repository: str, tag: str, size: int) -> str:
    hasher = hashlib.sha256()
    with httpx.Client(timeout=600) as http:
        started = http.post(f"http://{host}/v2/{repository}/blobs/uploads/")
        location = httpx.URL(f"http://{host}/").join(started.headers["Location"])
        patched = http.patch(
            str(location), content=random_stream(size, hasher), headers={"Content-Type": "application/octet-stream"}
        )
        location = httpx.URL(f"http://{host}/").join(patched.headers["Location"])
        digest = "sha256:" + hasher.hexdigest()
        done = http.put(str(location.copy_merge_params({"digest": digest})))
        assert done.status_code == 201, done.text
    seeder = Seeder(host)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [digest]}}
    ).encode()
    config_digest = seeder.push_blob(repository, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": config_digest},
            "layers": [{"mediaType": DOCKER_LAYER, "size": size, "digest": digest}],
        }
    ).encode()
    seeder.push_manifest(repository, tag, manifest, DOCKER_MANIFEST)
    seeder.close()
    return digest


def curl_floor(src: str, dst: str, repository: str, digest: str) -> float:
    """One blob through ``curl GET | curl PUT``: the time a copy cannot beat."""
    started = httpx.post(f"http://{dst}/v2/{repository}/blobs/uploads/")
    location = httpx.URL(f"http://{dst}/").join(started.headers["Location"]).copy_merge_params({"digest": digest})
    begin = time.perf_counter()
    pipeline = (
        f"curl -sSf http://{src}/v2/{repository}/blobs/{digest} | "
        f"curl -sSf -X PUT -H 'Content-Type: application/octet-stream' -T - '{location}'"
    )
    subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], check=True, capture_output=True)
    return time.perf_counter() - begin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="regcopy-bench-") as tmp:
        src = RegistryServer(Path(tmp), name="src").start()
        dst = RegistryServer(Path(tmp), name="dst").start()
        floor_dst = RegistryServer(Path(tmp), name="floor").start()
        try:
            digest = push_big_image(src.host, "bench/big", "v1", size)
            begin = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "regcopy.cli",
                    "copy",
                    "--json",
                    f"{src.host}/bench/big:v1",
                    f"{dst.host}/bench/big:v1",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - begin
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            peak_kib, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            floor_seconds = curl_floor(src.host, floor_dst.host, "bench/big", digest)
        finally:
            for server in (src, dst, floor_dst):
                server.stop()
    mib = size / 1024 / 1024
    report = {
        "layer_mib": args.size_mib,
        "regcopy_seconds": round(seconds, 2),
        "regcopy_mib_per_s": round(mib / seconds, 1),
        "regcopy_peak_rss_mib": round(peak_kib / 1024, 1),
        "regcopy_cpu_seconds": round(cpu, 2),
        "curl_floor_seconds": round(floor_seconds, 2),
        "curl_floor_mib_per_s": round(mib / floor_seconds, 1),
        "regcopy_vs_floor_throughput": round(floor_seconds / seconds, 2),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
