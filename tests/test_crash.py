"""kill -9 in the middle of a run, at several points: the rerun completes and verify passes."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from tests.conftest import run_cli, start_cli
from tests.seed import Seeder
from tests.servers.faultproxy import Fault, FaultProxy, SeenRequest
from tests.servers.registry import RegistryServer
from tests.servers.tencent import TencentWorld
from tests.tencent.world import CCR_PASS, CCR_USER, TCR_PASS, TCR_USER, seed_ccr


def kill_when(process: subprocess.Popen[str], arrived: threading.Event, release: threading.Event) -> None:
    """Wait until the run reaches the held request, kill -9 it there, then let the server answer the dead client."""
    assert arrived.wait(timeout=120), "the run never reached the point where it should be killed"
    process.kill()
    process.wait(timeout=30)
    release.set()
    assert process.returncode == -9


def sync_rig(tmp_path: Path, src: RegistryServer, dst: RegistryServer) -> tuple[FaultProxy, Path]:
    seeder = Seeder(src.host)
    for i in range(3):
        seeder.push_image(f"app{i}", "v1", layer_sizes=(1_200_000,))  # large enough to be PATCHed
    seeder.push_index("multi", "v1", [("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "arm", "v7")])
    seeder.close()
    proxy = FaultProxy(dst).start()
    config = tmp_path / "sync.json"
    config.write_text(json.dumps({"jobs": [{"source": f"{src.host}/", "destination": f"{proxy.host}/copy/"}]}))
    return proxy, config


def crash_and_recover(
    tmp_path: Path, src: RegistryServer, dst: RegistryServer, point: Callable[[SeenRequest], bool]
) -> None:
    proxy, config = sync_rig(tmp_path, src, dst)
    try:
        release = threading.Event()
        fault = proxy.add(Fault(point, hold=release))
        kill_when(start_cli("sync", str(config), "--no-cache", "-q", capture=False), fault.arrived, release)
        rerun = run_cli("sync", str(config), "--no-cache", "--report", str(tmp_path / "report.json"))
        assert rerun.returncode == 0, rerun.stderr
        assert "4 jobs" in rerun.stdout and "0 failed" in rerun.stdout
        verified = run_cli("verify", str(config))
        assert verified.returncode == 0, verified.stdout
        assert "4 checked, 4 identical, 0 different" in verified.stdout
    finally:
        proxy.stop()


def test_kill_during_blob_upload(tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer) -> None:
    crash_and_recover(tmp_path, src_registry, dst_registry, lambda r: r.method == "PATCH")


def test_kill_between_index_children_and_the_index(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer
) -> None:
    crash_and_recover(
        tmp_path,
        src_registry,
        dst_registry,
        lambda r: r.method == "PUT" and r.path.endswith("/copy/multi/manifests/v1"),
    )


def test_kill_before_a_tag_is_written(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer
) -> None:
    crash_and_recover(
        tmp_path, src_registry, dst_registry, lambda r: r.method == "PUT" and r.path.endswith("/copy/app1/manifests/v1")
    )


def test_kill_during_provisioning(world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 2, "team/api": 2, "infra/db": 1})
    env = {**seeded.env, "REGCOPY_CCR_AUTH": f"{CCR_USER}:{CCR_PASS}", "REGCOPY_TCR_AUTH": f"{TCR_USER}:{TCR_PASS}"}
    arrived, release = threading.Event(), threading.Event()
    world.api.holds["CreateRepository"] = (arrived, release)
    kill_when(start_cli(*seeded.args("-q"), env=env, capture=False), arrived, release)
    del world.api.holds["CreateRepository"]

    rerun = run_cli(*seeded.args(), env=env)

    assert rerun.returncode == 0, rerun.stderr
    assert "Finished, 0 transfer jobs failed, 0 normal urlPair generate failed, 0 jobs generate failed" in rerun.stdout
    assert sorted(world.instance.repositories) == ["infra/db", "team/api", "team/web"]
