"""The fault matrix: each fault on the source side and on the destination side, in the middle of a sync.

Transient faults (hit once) must be absorbed: every image copied with identical digests. Permanent faults fail
only the images they touch, with their reason; nothing corrupt is ever tagged; a rerun without the fault
completes the rest.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_cli
from tests.seed import Pushed, Seeder
from tests.servers.faultproxy import Fault, FaultProxy, SeenRequest
from tests.servers.registry import RegistryServer


@dataclass
class Rig:
    src: FaultProxy
    dst: FaultProxy
    images: dict[str, Pushed]
    config: Path

    def sync(self, *extra: str) -> tuple[int, str, str]:
        done = run_cli("sync", str(self.config), "--no-cache", "--retries", "4", "--timeout", "2", *extra)
        return done.returncode, done.stdout, done.stderr

    def assert_identical(self, names: list[str] | None = None) -> None:
        for name in names or list(self.images):
            repository, tag = name.split(":")
            response = httpx.get(
                f"http://{self.dst.upstream_host}/v2/copy/{repository}/manifests/{tag}",
                headers={"Accept": self.images[name].media_type},
            )
            assert response.status_code == 200, name
            assert response.content == self.images[name].data, name

    def tagged(self, name: str) -> bool:
        repository, tag = name.split(":")
        response = httpx.head(f"http://{self.dst.upstream_host}/v2/copy/{repository}/manifests/{tag}")
        return response.status_code == 200


@pytest.fixture
def rig(tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer) -> Iterator[Rig]:
    seeder = Seeder(src_registry.host)
    # One layer large enough to be streamed in a PATCH, one small enough to travel in the final PUT.
    images = {f"app{i}:v1": seeder.push_image(f"app{i}", "v1", layer_sizes=(1_200_000, 3_000)) for i in range(3)}
    images["multi:v1"] = seeder.push_index("multi", "v1", [("linux", "amd64", None), ("linux", "arm64", "v8")])[0]
    seeder.close()
    src, dst = FaultProxy(src_registry).start(), FaultProxy(dst_registry).start()
    src.upstream_host, dst.upstream_host = src_registry.host, dst_registry.host  # type: ignore[attr-defined]
    config = tmp_path / "sync.json"
    config.write_text(
        json.dumps(
            {"jobs": [{"source": f"{src.host}/{name}", "destination": f"{dst.host}/copy/{name}"} for name in images]}
        )
    )
    yield Rig(src, dst, images, config)
    src.stop()
    dst.stop()


def blob_get(r: SeenRequest) -> bool:
    return r.method == "GET" and "/blobs/sha256:" in r.path


def small_blob_put(r: SeenRequest) -> bool:
    """The final PUT of an upload that carries the whole (small) blob in its body."""
    return r.method == "PUT" and "/blobs/uploads/" in r.path and int(r.headers.get("content-length", "0")) > 1_500


def manifest(method: str) -> Callable[[SeenRequest], bool]:
    return lambda r: r.method == method and "/manifests/" in r.path


SOURCE_FAULTS = {
    "reset mid-body": lambda: Fault(blob_get, cut_response_after=50_000),
    "500": lambda: Fault(manifest("GET"), respond=500),
    "502": lambda: Fault(lambda r: r.method == "GET" and "/manifests/sha256:" in r.path, respond=502),
    "503": lambda: Fault(blob_get, respond=503),
    "429 with Retry-After": lambda: Fault(manifest("GET"), respond=429, headers={"Retry-After": "1"}),
    "truncated body": lambda: Fault(manifest("GET"), cut_response_after=40),
    "flipped byte": lambda: Fault(blob_get, flip_response_byte=1_000),
    "stalled response": lambda: Fault(blob_get, hold=threading.Event()),  # never answered: the read times out
}
DESTINATION_FAULTS = {
    "reset mid-body": lambda: Fault(lambda r: r.method == "PATCH", cut_request_after=50_000),
    "500": lambda: Fault(manifest("PUT"), respond=500),
    "502": lambda: Fault(lambda r: r.method == "HEAD" and "/blobs/" in r.path, respond=502),
    "503": lambda: Fault(lambda r: r.method == "POST", respond=503),
    "429 with Retry-After": lambda: Fault(manifest("PUT"), respond=429, headers={"Retry-After": "1"}),
    "truncated body": lambda: Fault(lambda r: r.method == "PATCH", cut_request_after=10),
    "flipped byte": lambda: Fault(lambda r: r.method == "PATCH", flip_request_byte=1_000),
    "reset mid-body (small blob PUT)": lambda: Fault(small_blob_put, cut_request_after=1_000),
    "flipped byte (small blob PUT)": lambda: Fault(small_blob_put, flip_request_byte=1_000),
    "stalled response": lambda: Fault(manifest("PUT"), hold=threading.Event()),
}


@pytest.mark.parametrize("fault", list(SOURCE_FAULTS))
def test_transient_fault_at_the_source_is_absorbed(rig: Rig, fault: str) -> None:
    injected = rig.src.add(SOURCE_FAULTS[fault]())
    code, out, err = rig.sync()
    assert injected.hits == 1, "the fault was never triggered"
    assert code == 0, err
    assert "4 jobs: 4 copied" in out
    rig.assert_identical()


@pytest.mark.parametrize("fault", list(DESTINATION_FAULTS))
def test_transient_fault_at_the_destination_is_absorbed(rig: Rig, fault: str) -> None:
    injected = rig.dst.add(DESTINATION_FAULTS[fault]())
    code, out, err = rig.sync()
    assert injected.hits == 1, "the fault was never triggered"
    assert code == 0, err
    assert "4 jobs: 4 copied" in out
    rig.assert_identical()


def test_permanently_corrupt_source_blob_fails_only_its_image_and_is_never_tagged(rig: Rig) -> None:
    victim = rig.images["app1:v1"].blobs[1]  # the large layer of app1
    rig.src.add(Fault(lambda r: r.method == "GET" and victim in r.path, flip_response_byte=500, times=None))
    code, out, err = rig.sync()
    assert code == 1
    assert "4 jobs: 3 copied, 0 skipped, 1 failed" in out
    assert "app1:v1" in err and "content hashes to" in err
    assert not rig.tagged("app1:v1")
    rig.assert_identical(["app0:v1", "app2:v1", "multi:v1"])
    rig.src.faults.clear()
    code, out, err = rig.sync()
    assert code == 0, err
    assert "4 jobs: 1 copied, 3 skipped" in out
    rig.assert_identical()


def test_destination_refusing_one_manifest_fails_only_that_image(rig: Rig) -> None:
    rig.dst.add(
        Fault(lambda r: r.method == "PUT" and r.path.endswith("/copy/app2/manifests/v1"), respond=500, times=None)
    )
    code, out, err = rig.sync()
    assert code == 1
    assert "4 jobs: 3 copied, 0 skipped, 1 failed" in out
    assert "app2:v1" in err and "HTTP 500" in err
    assert not rig.tagged("app2:v1")
    rig.dst.faults.clear()
    code, out, _ = rig.sync()
    assert code == 0 and "1 copied, 3 skipped" in out
    rig.assert_identical()
