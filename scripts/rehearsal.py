"""A rehearsal copy between two local registries, run by ``scripts/rehearsal.sh``.

Starts a Basic-auth source registry and an open destination on loopback, seeds
a Docker image, an OCI image and a 3-platform index, copies each with the real
``regcopy`` command, checks every digest with an independent reader, and runs
the copies again to show that nothing moves the second time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import bcrypt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.seed import Seeder, fetch_manifest, sha256
from tests.servers.registry import RegistryServer

USER, PASSWORD = "rehearsal", "rehearsal-password"


def regcopy(*args: str) -> str:
    env = {**os.environ, "REGCOPY_SRC_CREDS": f"{USER}:{PASSWORD}"}
    done = subprocess.run(
        [sys.executable, "-m", "regcopy.cli", *args], capture_output=True, text=True, env=env, check=False
    )
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"rehearsal: regcopy {' '.join(args)} exited {done.returncode}")
    return done.stdout.strip()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="regcopy-rehearsal-") as tmp:
        root = Path(tmp)
        htpasswd = root / "htpasswd"
        htpasswd.write_text(f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()}\n")
        source = RegistryServer(root, name="source", auth={"htpasswd": {"realm": "rehearsal", "path": str(htpasswd)}})
        destination = RegistryServer(root, name="destination")
        source.start()
        destination.start()
        try:
            print(f"source registry {source.host} (basic auth), destination registry {destination.host}")
            seeder = Seeder(source.host, (USER, PASSWORD))
            images = {
                "team/web:1.0": seeder.push_image("team/web", "1.0", layer_sizes=(3_000_000, 500_000)).digest,
                "team/api:2.1": seeder.push_image("team/api", "2.1", oci=True, layer_sizes=(2_000_000,)).digest,
                "base/multi:latest": seeder.push_index(
                    "base/multi", "latest", [("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "arm", "v7")]
                )[0].digest,
            }
            seeder.close()
            for run in ("first run", "second run"):
                print(f"-- {run}")
                for name in images:
                    print(regcopy("copy", f"{source.host}/{name}", f"{destination.host}/{name}"))
            for name, digest in images.items():
                repository, tag = name.split(":")
                data, _ = fetch_manifest(destination.host, repository, tag)
                if sha256(data) != digest:
                    raise SystemExit(f"rehearsal: {name} has digest {sha256(data)} at the destination, not {digest}")
            print(f"rehearsal: all {len(images)} images verified at {destination.host} with identical digests")
        finally:
            source.stop()
            destination.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
