"""A real CNCF distribution registry (Debian's ``docker-registry``) on a free loopback port.

Each server has its own storage directory and a JSON access log that tests
read to count requests independently of regcopy's own bookkeeping.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

REGISTRY_BINARY = os.environ.get("REGCOPY_TEST_REGISTRY_BINARY", "/usr/bin/docker-registry")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 15.0) -> None:
    """Block until something accepts connections on ``port`` (a readiness check, not a delay)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    uri: str
    status: int

    @property
    def path(self) -> str:
        return self.uri.split("?", 1)[0]


class RegistryServer:
    def __init__(
        self,
        root: Path,
        *,
        auth: dict[str, object] | None = None,
        name: str = "registry",
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        if not Path(REGISTRY_BINARY).exists():
            raise RuntimeError(f"{REGISTRY_BINARY} missing: run scripts/setup.sh (installs docker-registry)")
        self.root = root / name
        self.root.mkdir(parents=True, exist_ok=True)
        self.auth = auth
        self.tls = tls
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "registry.log"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def _config(self) -> str:
        config: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "json", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.root / "data")},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": "regcopy-test-secret"},
        }
        if self.auth:
            config["auth"] = self.auth
        if self.tls:
            http = config["http"]
            assert isinstance(http, dict)
            http["tls"] = {"certificate": str(self.tls[0]), "key": str(self.tls[1])}
        return json.dumps(config)  # JSON is YAML

    def start(self, *, keep_port: bool = False) -> RegistryServer:
        """Start on a free port (or, with ``keep_port``, on the port it had before a stop)."""
        for attempt in range(5):
            self.port = self.port if keep_port and attempt == 0 and self.port else free_port()
            config_path = self.root / "config.yml"
            config_path.write_text(self._config())
            log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config_path)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
            log.close()
            try:
                wait_for_port(self.port, self.process)
                return self
            except RuntimeError:
                self.stop()
        raise RuntimeError("docker-registry did not start; see " + str(self.log_path))

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def wipe(self) -> None:
        shutil.rmtree(self.root / "data", ignore_errors=True)

    def requests(self) -> list[LoggedRequest]:
        """Every request the registry has completed so far, in log order.

        A marker request is sent and awaited in the log first, so requests that
        finished before this call are guaranteed to be in the list.
        """
        marker = uuid.uuid4().hex
        httpx.get(f"{self.url}/v2/?marker={marker}", timeout=10, verify=False)
        deadline = time.monotonic() + 10
        while True:
            entries = self._read_log()
            if any(marker in e.uri for e in entries):
                return [e for e in entries if "marker=" not in e.uri]
            if time.monotonic() > deadline:
                raise RuntimeError("registry log never showed the marker request")
            time.sleep(0.01)

    def _read_log(self) -> list[LoggedRequest]:
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if "http.request.method" not in entry:
                continue
            message = str(entry.get("msg", ""))
            # Requests refused by auth are logged as "error authorizing context", not "response completed".
            if message == "response completed" or message.startswith("error authorizing context"):
                status = int(entry.get("http.response.status", 401))
                found.append(LoggedRequest(entry["http.request.method"], entry["http.request.uri"], status))
        return found

    def blob_uploads(self) -> list[LoggedRequest]:
        """Completed blob uploads (the final ``PUT ...?digest=``), the unit of "bytes sent"."""
        return [r for r in self.requests() if r.method == "PUT" and "/blobs/uploads/" in r.uri and r.status == 201]

    def mounts(self) -> list[LoggedRequest]:
        return [r for r in self.requests() if r.method == "POST" and "mount=" in r.uri and r.status == 201]
