"""Fixtures that start real registries (and a token service) on free loopback ports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import bcrypt
import pytest

from regcopy import CopyContext, CopyOptions, CopyResult, RegistryPool, copy_image
from tests.seed import Seeder
from tests.servers.registry import RegistryServer
from tests.servers.tencent import TencentWorld, start_world
from tests.servers.tokenserver import TokenServer
from tests.tencent.world import CCR_PASS, CCR_USER, SECRET_ID, SECRET_KEY, TCR_PASS, TCR_USER

USER, PASSWORD = "alice", "s3cret-Pa55w0rd-XYZ"


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's docker config, proxies or regcopy variables."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name.startswith("REGCOPY_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def registry_factory(tmp_path: Path) -> Iterator[Callable[..., RegistryServer]]:
    started: list[RegistryServer] = []
    counter = iter(range(1000))

    def make(auth: dict[str, object] | None = None) -> RegistryServer:
        server = RegistryServer(tmp_path, auth=auth, name=f"registry{next(counter)}").start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def src_registry(registry_factory: Callable[..., RegistryServer]) -> RegistryServer:
    return registry_factory()


@pytest.fixture
def dst_registry(registry_factory: Callable[..., RegistryServer]) -> RegistryServer:
    return registry_factory()


@pytest.fixture
def basic_registry(tmp_path: Path, registry_factory: Callable[..., RegistryServer]) -> RegistryServer:
    htpasswd = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
    htpasswd.write_text(f"{USER}:{hashed}\n")
    return registry_factory({"htpasswd": {"realm": "regcopy-test", "path": str(htpasswd)}})


@pytest.fixture
def token_server(tmp_path: Path) -> Iterator[TokenServer]:
    server = TokenServer(tmp_path / "token", {USER: PASSWORD}).start()
    yield server
    server.stop()


@pytest.fixture
def token_registry(token_server: TokenServer, registry_factory: Callable[..., RegistryServer]) -> RegistryServer:
    return registry_factory(token_server.registry_auth())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[TencentWorld]:
    """An emulated Tencent Cloud: the API, a CCR registry and a TCR instance's registry."""
    started = start_world(
        tmp_path, keys={SECRET_ID: SECRET_KEY}, ccr_user=(CCR_USER, CCR_PASS), tcr_user=(TCR_USER, TCR_PASS)
    )
    yield started
    started.stop()


@pytest.fixture
def seeder_for() -> Iterator[Callable[..., Seeder]]:
    made: list[Seeder] = []

    def make(server: RegistryServer, auth: tuple[str, str] | None = None) -> Seeder:
        seeder = Seeder(server.host, auth)
        made.append(seeder)
        return seeder

    yield make
    for seeder in made:
        seeder.close()


def run_cli(*args: str, env: dict[str, str] | None = None, input: str = "") -> subprocess.CompletedProcess[str]:
    """Run the real ``regcopy`` entry point in a subprocess, as a user would (stdin: ``input``)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "regcopy.cli", *args],
        capture_output=True,
        text=True,
        input=input,
        env=full_env,
        timeout=300,
        check=False,
    )


def start_cli(*args: str, env: dict[str, str] | None = None, capture: bool = True) -> subprocess.Popen[str]:
    """Start the real ``regcopy`` entry point without waiting: for runs side by side, or to kill one."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "regcopy.cli", *args],
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=output,
        text=True,
    )


def copy_now(src: str, dst: str, options: CopyOptions | None = None, pool: RegistryPool | None = None) -> CopyResult:
    """``copy_image`` from synchronous test code, with a pool that ignores the developer's docker config."""

    async def run() -> CopyResult:
        context = CopyContext(pool=pool or RegistryPool(docker_config=False))
        try:
            return await copy_image(src, dst, options, context=context)
        finally:
            await context.aclose()

    return anyio.run(run)
