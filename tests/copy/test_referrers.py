"""--referrers: OCI artifacts that refer to an image (tag schema) and cosign signature tags come along."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.seed import fetch_manifest, push_fallback_index, push_referrer
from tests.servers.registry import RegistryServer


def test_copy_with_referrers(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    seeder = seeder_for(src_registry)
    image = seeder.push_image("ns/app", "v1", oci=True)
    sbom = push_referrer(seeder, "ns/app", image, "application/spdx+json")
    signature_on_sbom = push_referrer(seeder, "ns/app", sbom, "application/vnd.dev.cosign.artifact.sig.v1+json")
    index = push_fallback_index(seeder, "ns/app", image, [sbom])
    sbom_index = push_fallback_index(seeder, "ns/app", sbom, [signature_on_sbom])
    cosign_tag = image.digest.replace(":", "-") + ".sig"
    cosign = seeder.push_image("ns/app", cosign_tag, oci=True)

    done = run_cli(
        "copy", "--referrers", "--json", f"{src_registry.host}/ns/app:v1", f"{dst_registry.host}/mirror/app:v1"
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stats"]["referrers_copied"] == 3
    dst = dst_registry.host
    assert fetch_manifest(dst, "mirror/app", sbom.digest)[0] == sbom.data
    assert fetch_manifest(dst, "mirror/app", signature_on_sbom.digest)[0] == signature_on_sbom.data
    assert fetch_manifest(dst, "mirror/app", image.digest.replace(":", "-"))[0] == index.data
    assert fetch_manifest(dst, "mirror/app", sbom.digest.replace(":", "-"))[0] == sbom_index.data
    assert fetch_manifest(dst, "mirror/app", cosign_tag)[0] == cosign.data

    # without the flag nothing but the image moves
    plain = run_cli("copy", f"{src_registry.host}/ns/app:v1", f"{dst_registry.host}/plain/app:v1")
    assert plain.returncode == 0
    listed = run_cli("sync", "--dry-run", str(_config(tmp_path, f"{dst}/plain/app", f"{dst}/x/app")))
    assert "1 jobs" in listed.stdout  # only the v1 tag exists in plain/app


def _config(tmp_path: Path, source: str, destination: str) -> Path:
    path = tmp_path / "sync.json"
    path.write_text(json.dumps({"jobs": [{"source": source, "destination": destination}]}))
    return path
