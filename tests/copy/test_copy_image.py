"""Single-image copies between real registries, checked with an independent reader."""

from __future__ import annotations

import anyio
import pytest

from regcopy import copy_image
from regcopy.copy import CopyContext
from regcopy.errors import NotFound
from regcopy.registry_v2 import RegistryPool
from tests.conftest import copy_now
from tests.seed import fetch_manifest, sha256
from tests.servers.registry import RegistryServer


@pytest.mark.parametrize("oci", [False, True], ids=["docker", "oci"])
def test_copy_single_image_is_byte_exact(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for, oci: bool
) -> None:  # type: ignore[no-untyped-def]
    pushed = seeder_for(src_registry).push_image("ns/app", "v1", oci=oci)

    result = copy_now(f"{src_registry.host}/ns/app:v1", f"{dst_registry.host}/other/app:v1")

    assert result.status == "copied"
    assert result.digest == pushed.digest
    data, content_type = fetch_manifest(dst_registry.host, "other/app", "v1")
    assert data == pushed.data
    assert sha256(data) == pushed.digest
    assert content_type == pushed.media_type
    assert result.stats.blobs_uploaded == 3
    for digest in pushed.blobs:
        blob = fetch_blob(dst_registry, "other/app", digest)
        assert sha256(blob) == digest


def fetch_blob(server: RegistryServer, repository: str, digest: str) -> bytes:
    import httpx

    response = httpx.get(f"{server.url}/v2/{repository}/blobs/{digest}", follow_redirects=True)
    assert response.status_code == 200
    return response.content


def test_copy_index_with_three_platforms(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    index, children = seeder_for(src_registry).push_index(
        "ns/multi", "v2", [("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "arm", "v7")]
    )

    result = copy_now(f"{src_registry.host}/ns/multi:v2", f"{dst_registry.host}/ns/multi:v2")

    assert result.status == "copied"
    assert result.digest == index.digest
    data, content_type = fetch_manifest(dst_registry.host, "ns/multi", "v2")
    assert data == index.data and content_type == index.media_type
    for child in children:
        child_data, _ = fetch_manifest(dst_registry.host, "ns/multi", child.digest)
        assert child_data == child.data
    assert result.stats.manifests_pushed == 4
    assert result.stats.blobs_uploaded == 9


def test_second_copy_is_skipped_and_uploads_nothing(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder_for(src_registry).push_index("ns/multi", "v2", [("linux", "amd64", None), ("linux", "arm64", "v8")])
    src, dst = f"{src_registry.host}/ns/multi:v2", f"{dst_registry.host}/ns/multi:v2"
    assert copy_now(src, dst).status == "copied"
    before = dst_registry.requests()

    second = copy_now(src, dst)

    assert second.status == "skipped"
    new = dst_registry.requests()[len(before) :]
    assert [r.method for r in new if r.path != "/v2/"] == ["HEAD"]
    assert second.stats.bytes_uploaded == 0


def test_blob_in_another_repository_is_mounted_not_uploaded(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    import os

    base = [os.urandom(50_000), os.urandom(30_000)]
    seeder_for(src_registry).push_image("ns/one", "v1", layers=base)
    seeder_for(src_registry).push_image("ns/two", "v1", layers=[*base, os.urandom(1000)])
    pool = RegistryPool(docker_config=False)

    async def run():  # type: ignore[no-untyped-def]
        context = CopyContext(pool=pool)
        try:
            first = await copy_image(
                f"{src_registry.host}/ns/one:v1", f"{dst_registry.host}/ns/one:v1", context=context
            )
            second = await copy_image(
                f"{src_registry.host}/ns/two:v1", f"{dst_registry.host}/ns/two:v1", context=context
            )
            return first, second
        finally:
            await context.aclose()

    first, second = anyio.run(run)

    assert first.stats.blobs_uploaded == 3
    assert second.stats.blobs_mounted == 2
    assert second.stats.blobs_uploaded == 2  # its own config and its own top layer
    uploads = [r for r in dst_registry.blob_uploads() if r.path.startswith("/v2/ns/two/")]
    assert len(uploads) == 2
    assert len([m for m in dst_registry.mounts() if "/v2/ns/two/" in m.uri]) == 2


def test_same_registry_copy_mounts_from_the_source_repository(src_registry: RegistryServer, seeder_for) -> None:  # type: ignore[no-untyped-def]
    pushed = seeder_for(src_registry).push_image("ns/app", "v1")

    result = copy_now(f"{src_registry.host}/ns/app:v1", f"{src_registry.host}/mirror/app:v1")

    assert result.stats.blobs_mounted == 3 and result.stats.blobs_uploaded == 0
    assert fetch_manifest(src_registry.host, "mirror/app", "v1")[0] == pushed.data


def test_missing_source_tag_is_not_found(src_registry: RegistryServer, dst_registry: RegistryServer) -> None:
    with pytest.raises(NotFound, match="not found"):
        copy_now(f"{src_registry.host}/ns/none:v1", f"{dst_registry.host}/ns/none:v1")
    assert [r for r in dst_registry.requests() if r.method in ("PUT", "POST", "PATCH")] == []


def test_skopeo_reads_the_copy_byte_for_byte(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    index, children = seeder_for(src_registry).push_index(
        "ns/multi", "v3", [("linux", "amd64", None), ("linux", "arm64", "v8")]
    )
    copy_now(f"{src_registry.host}/ns/multi:v3", f"{dst_registry.host}/ns/multi:v3")

    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{dst_registry.host}/ns/multi:v3"],
        capture_output=True,
        check=True,
    )
    assert raw.stdout == index.data
    # skopeo pulls every platform and verifies every blob digest on the way
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--all",
            "--src-tls-verify=false",
            f"docker://{dst_registry.host}/ns/multi:v3",
            f"oci:{tmp_path / 'layout'}:v3",
        ],
        capture_output=True,
        check=True,
    )
    got = {p.name for p in (tmp_path / "layout" / "blobs" / "sha256").iterdir()}
    expected = {index.digest} | {c.digest for c in children} | {b for c in children for b in c.blobs}
    assert got == {d[7:] for d in expected}
