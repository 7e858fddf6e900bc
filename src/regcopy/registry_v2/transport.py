"""How regcopy reaches a registry host: scheme, TLS policy, connection pool.

TLS is verified by default. Two kinds of host may speak plain HTTP:
- hosts the user marks insecure (``--insecure-registry``, ``REGCOPY_INSECURE_REGISTRIES``):
  HTTPS without certificate checks is tried first, then plain HTTP, as docker does;
- loopback hosts (``localhost``, 127.0.0.0/8, ``::1``): plain HTTP, or HTTPS with full
  verification when the port turns out to speak TLS. Unlike docker, a loopback port
  that speaks TLS with an untrusted certificate is an error, not silently trusted.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from regcopy.registry_v2.connpool import LeanConnectionPool, lean_pool_supported
from regcopy.registry_v2.netbackend import AsyncioBackend

INSECURE_ENV = "REGCOPY_INSECURE_REGISTRIES"


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """Knobs of the HTTP layer; defaults come from benchmarks on small and large machines."""

    max_connections: int = 32
    connect_timeout: float = 30.0
    read_timeout: float = 300.0
    # How far a connection reads ahead of its consumer before it stops reading the socket
    # (asyncio backend only); tuned by ``python -m benchmarks tune``.
    read_buffer: int = 1024 * 1024
    user_agent: str = "regcopy"


def split_host_port(host: str) -> tuple[str, str | None]:
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else None
    name, sep, port = host.rpartition(":")
    return (name, port) if sep and port.isdigit() else (host, None)


def is_loopback(host: str) -> bool:
    name, _ = split_host_port(host)
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_from_env() -> set[str]:
    raw = os.environ.get(INSECURE_ENV, "")
    return {item.strip().lower() for item in raw.replace(";", ",").split(",") if item.strip()}


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """``HOST`` matches every port of that host; ``HOST:PORT`` only that port."""
    host = host.lower()
    name, _ = split_host_port(host)
    return any(p in (host, name) for p in (p.lower() for p in patterns))


def tls_failure_is_certificate(exc: BaseException) -> bool:
    """True when TLS was spoken but the certificate was not trusted (as opposed to no TLS at all)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _proxies_configured() -> bool:
    import urllib.request

    return any(scheme in urllib.request.getproxies() for scheme in ("http", "https", "all"))


class DirectTransport(httpx.AsyncHTTPTransport):
    """httpx's transport for unproxied connections, on regcopy's lean pool and asyncio backend.

    Per request, httpcore's stock pool and anyio backend cost more CPU than
    everything else regcopy does for a small image (see ``connpool`` and
    ``netbackend``); request handling, exceptions and streaming stay httpx's own.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits, read_buffer: int) -> None:
        super().__init__(verify=ssl_context, limits=limits)
        if lean_pool_supported():
            self._pool = LeanConnectionPool(
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=AsyncioBackend(read_buffer=read_buffer),
            )


def shared_ssl_context(*, verify: bool) -> ssl.SSLContext:
    """One context per trust setting: loading the CA bundle costs ~50 ms, and every client needs one.

    ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are honoured for every registry, loopback ones
    included (a tunnel to a registry with a private CA is the usual loopback TLS case), and
    they are part of the cache key, so a caller that changes them gets a new context.
    """
    return _ssl_context(verify, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=8)
def _ssl_context(verify: bool, cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=verify, trust_env=True)


def make_http_client(options: TransportOptions, *, verify: bool, trust_env: bool = True) -> httpx.AsyncClient:
    """Proxy variables are honoured except for loopback hosts, which a proxy could never reach."""
    limits = httpx.Limits(
        max_connections=options.max_connections,
        max_keepalive_connections=options.max_connections,
        keepalive_expiry=30.0,
    )
    timeout = httpx.Timeout(options.read_timeout, connect=options.connect_timeout, pool=None)
    common: dict[str, Any] = {
        "timeout": timeout,
        "follow_redirects": False,
        "headers": {"User-Agent": options.user_agent},
        "trust_env": trust_env,
    }
    ssl_context = shared_ssl_context(verify=verify)
    if trust_env and _proxies_configured():
        return httpx.AsyncClient(limits=limits, verify=ssl_context, **common)
    transport = DirectTransport(ssl_context=ssl_context, limits=limits, read_buffer=options.read_buffer)
    return httpx.AsyncClient(transport=transport, **common)
