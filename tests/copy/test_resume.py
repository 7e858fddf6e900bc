"""A blob transfer broken midway resumes from what the destination holds, verified end to end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from regcopy import CopyOptions
from regcopy.registry_v2 import RegistryPool
from regcopy.registry_v2.retry import RetryPolicy
from tests.conftest import copy_now
from tests.seed import fetch_manifest, random_layer, sha256
from tests.servers.faultproxy import Fault, FaultProxy
from tests.servers.registry import RegistryServer

MIB = 1024 * 1024


@pytest.fixture
def proxies(src_registry: RegistryServer, dst_registry: RegistryServer) -> Iterator[tuple[FaultProxy, FaultProxy]]:
    src, dst = FaultProxy(src_registry).start(), FaultProxy(dst_registry).start()
    yield src, dst
    src.stop()
    dst.stop()


FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


def copy_through(src: str, dst: str, options: CopyOptions) -> object:
    return copy_now(src, dst, options, pool=RegistryPool(docker_config=False, retry=FAST_RETRY))


def test_chunked_upload_resumes_after_the_source_breaks(
    src_registry: RegistryServer, proxies: tuple[FaultProxy, FaultProxy], seeder_for
) -> None:  # type: ignore[no-untyped-def]
    layer = random_layer(10 * MIB)
    pushed = seeder_for(src_registry).push_image("ns/big", "v1", layers=[layer])
    src_proxy, dst_proxy = proxies
    cut = src_proxy.add(
        Fault(lambda r: r.method == "GET" and sha256(layer) in r.path, cut_response_after=9 * MIB + MIB // 2)
    )

    copy_through(f"{src_proxy.host}/ns/big:v1", f"{dst_proxy.host}/ns/big:v1", CopyOptions(chunk_size=MIB))

    assert cut.hits == 1
    assert fetch_manifest(dst_proxy.host, "ns/big", "v1")[0] == pushed.data
    ranges = [
        r.headers["content-range"] for r in dst_proxy.seen if r.method == "PATCH" and "content-range" in r.headers
    ]
    big = [r for r in ranges if int(r.split("-")[1]) >= 4096]  # leave out the small config blob
    expected = [f"{start}-{min(start + MIB, len(layer)) - 1}" for start in range(0, len(layer), MIB)]
    assert big == expected  # each chunk sent once: resumed, not restarted
    assert [r.method for r in dst_proxy.seen if r.method == "GET" and "/blobs/uploads/" in r.path] == ["GET"]
    gets = [r for r in src_proxy.seen if r.method == "GET" and sha256(layer) in r.path]
    assert len(gets) == 2 and gets[1].headers.get("range", "").startswith("bytes=8")  # re-read from a checkpoint


def test_reset_mid_patch_restarts_when_the_registry_drops_the_session(
    src_registry: RegistryServer, proxies: tuple[FaultProxy, FaultProxy], seeder_for
) -> None:  # type: ignore[no-untyped-def]
    layer = random_layer(4 * MIB)
    pushed = seeder_for(src_registry).push_image("ns/big", "v1", layers=[layer])
    src_proxy, dst_proxy = proxies
    patches = dst_proxy.add(
        Fault(
            lambda r: r.method == "PATCH" and r.headers.get("content-range", "").startswith(f"{2 * MIB}-"),
            cut_request_after=MIB // 2,
        )
    )

    copy_through(f"{src_proxy.host}/ns/big:v1", f"{dst_proxy.host}/ns/big:v1", CopyOptions(chunk_size=MIB))

    # distribution keeps the partial PATCH and then refuses the session, so the copy starts a new one
    assert patches.hits == 1
    assert fetch_manifest(dst_proxy.host, "ns/big", "v1")[0] == pushed.data
    assert [r.method for r in dst_proxy.seen if r.method == "DELETE"] == ["DELETE"]


def test_source_reset_mid_blob_is_retried_and_verified(
    src_registry: RegistryServer, proxies: tuple[FaultProxy, FaultProxy], seeder_for
) -> None:  # type: ignore[no-untyped-def]
    layer = random_layer(3 * MIB)
    pushed = seeder_for(src_registry).push_image("ns/app", "v1", layers=[layer])
    src_proxy, dst_proxy = proxies
    cut = src_proxy.add(Fault(lambda r: r.method == "GET" and sha256(layer) in r.path, cut_response_after=MIB))

    result = copy_through(f"{src_proxy.host}/ns/app:v1", f"{dst_proxy.host}/ns/app:v1", CopyOptions())

    assert cut.hits == 1
    assert result.digest == pushed.digest  # type: ignore[attr-defined]
    assert fetch_manifest(dst_proxy.host, "ns/app", "v1")[0] == pushed.data


def test_flipped_byte_is_never_committed(
    src_registry: RegistryServer, proxies: tuple[FaultProxy, FaultProxy], seeder_for
) -> None:  # type: ignore[no-untyped-def]
    layer = random_layer(MIB)
    seeder_for(src_registry).push_image("ns/app", "v1", layers=[layer])
    src_proxy, dst_proxy = proxies
    flip = src_proxy.add(
        Fault(lambda r: r.method == "GET" and sha256(layer) in r.path, flip_response_byte=1000, times=None)
    )

    with pytest.raises(Exception, match="content hashes to"):
        copy_through(f"{src_proxy.host}/ns/app:v1", f"{dst_proxy.host}/ns/app:v1", CopyOptions())

    assert flip.hits == 4  # every attempt saw the corruption and was refused
    tags = dst_proxy.seen
    assert not [r for r in tags if r.method == "PUT" and "/manifests/" in r.path]
    assert not [r for r in tags if r.method == "PUT" and sha256(layer).replace(":", "%3A") in r.path]
