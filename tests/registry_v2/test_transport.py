"""Scheme and TLS policy against real registries: plain HTTP on loopback, TLS verified unless marked insecure."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from regcopy.errors import RegistryUnreachable
from regcopy.registry_v2 import RegistryClient
from regcopy.registry_v2.transport import (
    TransportOptions,
    host_matches,
    insecure_from_env,
    is_loopback,
    make_http_client,
)
from tests.servers.certs import self_signed
from tests.servers.registry import RegistryServer


def catalog(host: str, insecure: bool = False) -> list[str]:
    async def run() -> list[str]:
        async with RegistryClient(host, insecure=insecure) as client:
            return await client.catalog()

    return anyio.run(run)


def test_loopback_plain_http_registry_is_used_over_http(src_registry: RegistryServer, seeder_for) -> None:  # type: ignore[no-untyped-def]
    seeder = seeder_for(src_registry)
    for name in ["b/two", "a/one", "c/three"]:
        seeder.push_image(name, "v1")
    assert catalog(src_registry.host) == ["a/one", "b/two", "c/three"]


def test_self_signed_tls_fails_unless_insecure(tmp_path: Path) -> None:
    server = RegistryServer(tmp_path, name="tls", tls=self_signed(tmp_path / "certs")).start()
    try:
        with pytest.raises(RegistryUnreachable, match="TLS certificate not trusted") as caught:
            catalog(server.host)
        assert f"--insecure-registry {server.host}" in str(caught.value)
        assert catalog(server.host, insecure=True) == []
    finally:
        server.stop()


def test_host_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_loopback("127.0.0.1:5000") and is_loopback("localhost") and is_loopback("[::1]:443")
    assert is_loopback("127.9.9.9") and not is_loopback("10.0.0.1:5000") and not is_loopback("example.com")
    assert host_matches("reg.example.com:5000", ["reg.example.com"])
    assert host_matches("reg.example.com:5000", ["REG.example.com:5000"])
    assert not host_matches("reg.example.com:5001", ["reg.example.com:5000"])
    monkeypatch.setenv("REGCOPY_INSECURE_REGISTRIES", "a.example.com, b.example.com:5000")
    assert insecure_from_env() == {"a.example.com", "b.example.com:5000"}


def test_one_tls_context_per_trust_setting_and_ssl_cert_file_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the CA bundle is the costliest part of opening a client; it is done once, not per registry."""
    first = make_http_client(TransportOptions(), verify=True)
    second = make_http_client(TransportOptions(), verify=True)
    try:
        assert first._transport._pool._ssl_context is second._transport._pool._ssl_context  # type: ignore[attr-defined]
    finally:
        anyio.run(first.aclose)
        anyio.run(second.aclose)
    cert, key = self_signed(tmp_path / "certs")
    server = RegistryServer(tmp_path, name="tls", tls=(cert, key)).start()
    try:
        with pytest.raises(RegistryUnreachable, match="TLS certificate not trusted"):
            catalog(server.host)
        # A changed trust store is a new context, not the cached one.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert catalog(server.host) == []
    finally:
        server.stop()
