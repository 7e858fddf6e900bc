"""Secrets never appear in output, logs, reports or errors, even at debug verbosity."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import anyio
import pytest

from regcopy.registry_v2 import Credentials, RegistryClient
from tests.conftest import PASSWORD, USER, run_cli
from tests.servers.registry import RegistryServer

DIGEST = "sha256:" + "a" * 64


def test_copy_and_sync_at_debug_verbosity_leak_nothing(
    tmp_path: Path, basic_registry: RegistryServer, token_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder_for(basic_registry, (USER, PASSWORD)).push_image("ns/app", "v1")
    env = {"REGCOPY_SRC_CREDS": f"{USER}:{PASSWORD}", "REGCOPY_DEST_CREDS": f"{USER}:{PASSWORD}"}
    copied = run_cli("copy", "-vvv", f"{basic_registry.host}/ns/app:v1", f"{token_registry.host}/ns/app:v1", env=env)
    assert copied.returncode == 0, copied.stderr
    config = tmp_path / "sync.json"
    config.write_text(
        json.dumps(
            {
                "registries": {
                    basic_registry.host: {"credentials_env": "SRC"},
                    token_registry.host: {"credentials_env": "DST"},
                },
                "jobs": [
                    {"source": f"{basic_registry.host}/ns/app", "destination": f"{token_registry.host}/mirror/app"}
                ],
            }
        )
    )
    report = tmp_path / "report.json"
    synced = run_cli(
        "sync",
        "-vvv",
        str(config),
        "--report",
        str(report),
        "--no-cache",
        env={"SRC": f"{USER}:{PASSWORD}", "DST": f"{USER}:wrong-{PASSWORD}"},
    )
    assert synced.returncode == 1  # the destination password is wrong: the error must not show it either
    texts = [copied.stdout, copied.stderr, synced.stdout, synced.stderr, report.read_text()]
    assert "DEBUG" in copied.stderr  # debug logging really was on
    for text in texts:
        assert PASSWORD not in text
        assert "Authorization" not in text and "Bearer ey" not in text


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


class _Registry(BaseHTTPRequestHandler):
    storage_port = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.headers.get("Authorization") is None:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(307)
        self.send_header("Location", f"http://127.0.0.1:{self.storage_port}/bucket/blob?signature=x")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def redirecting_registry() -> Iterator[tuple[int, type[_Recorder]]]:
    storage = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Registry.storage_port = storage.server_address[1]
    registry = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (storage, registry)]
    for thread in threads:
        thread.start()
    _Recorder.seen = []
    yield registry.server_address[1], _Recorder
    for server in (storage, registry):
        server.shutdown()
        server.server_close()


def test_authorization_never_follows_a_redirect_to_another_port(redirecting_registry) -> None:  # type: ignore[no-untyped-def]
    port, storage = redirecting_registry

    async def read() -> bytes:
        client = RegistryClient(f"127.0.0.1:{port}", credentials=Credentials("bob", "hunter2"))
        async with client, client.blob_stream("ns/app", DIGEST) as chunks:
            return b"".join([chunk async for chunk in chunks])

    assert anyio.run(read) == b"ok"
    assert len(storage.seen) == 1
    assert "Authorization" not in storage.seen[0] and "authorization" not in storage.seen[0]
