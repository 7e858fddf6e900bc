"""The direct transport (lean pool + asyncio backend) against a small HTTP/1.1 server on loopback.

The server is written here so that it can do what a registry does only by
accident: hang up on idle keep-alive connections, never answer, or count how
many connections a client holds open at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from regcopy.registry_v2.connpool import LeanConnectionPool, lean_pool_supported
from regcopy.registry_v2.netbackend import AsyncioBackend
from regcopy.registry_v2.transport import DirectTransport, TransportOptions, make_http_client

BIG = os.urandom(6 * 1024 * 1024 + 123)


@dataclass
class Server:
    port: int = 0
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    close_after_response: bool = False
    stall: bool = False
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                path = lines[0].split()[1]
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if self.stall:
                    await self.release.wait()
                    return
                if path == "/slow":  # held until the test releases it, to keep connections busy
                    await self.release.wait()
                payload = BIG if path == "/big" else hashlib.sha256(body).hexdigest().encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
                await writer.drain()
                self.answered.set()
                if self.close_after_response:
                    return  # hang up without "Connection: close", as servers do to idle connections
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            writer.close()


@asynccontextmanager
async def serving(server: Server) -> AsyncIterator[Server]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        server.release.set()
        listener.close()


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def client(max_connections: int = 4, read_timeout: float = 30.0) -> httpx.AsyncClient:
    return make_http_client(
        TransportOptions(max_connections=max_connections, read_timeout=read_timeout), verify=True, trust_env=False
    )


def test_direct_transport_uses_the_lean_pool_and_asyncio_backend() -> None:
    assert lean_pool_supported(), "the pinned httpcore is one the lean pool was written for"
    http = client()
    transport = http._transport
    assert isinstance(transport, DirectTransport)
    assert isinstance(transport._pool, LeanConnectionPool)
    assert isinstance(transport._pool._network_backend, AsyncioBackend)


def test_connections_are_reused_and_bodies_arrive_intact() -> None:
    async def test() -> None:
        async with serving(Server()) as server, client() as http:
            for i in range(5):
                body = os.urandom(1000 + i)
                response = await http.post(f"http://127.0.0.1:{server.port}/echo", content=body)
                assert response.text == hashlib.sha256(body).hexdigest()
            big = await http.get(f"http://127.0.0.1:{server.port}/big")
            assert big.content == BIG
            assert server.connections == 1

    run(test)


def test_streamed_upload_and_download() -> None:
    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(BIG), 100_000):
            yield BIG[start : start + 100_000]

    async def test() -> None:
        async with serving(Server()) as server, client() as http:
            response = await http.post(
                f"http://127.0.0.1:{server.port}/echo", content=body(), headers={"Content-Length": str(len(BIG))}
            )
            assert response.text == hashlib.sha256(BIG).hexdigest()
            digest = hashlib.sha256()
            async with http.stream("GET", f"http://127.0.0.1:{server.port}/big") as streamed:
                async for chunk in streamed.aiter_raw():
                    assert len(chunk) <= 1024 * 1024
                    digest.update(chunk)
            assert digest.digest() == hashlib.sha256(BIG).digest()

    run(test)


def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    async def test() -> None:
        async with serving(Server(close_after_response=True)) as server, client() as http:
            for _ in range(3):
                response = await http.get(f"http://127.0.0.1:{server.port}/x")
                assert response.status_code == 200
                # Wait until the client's event loop has seen the hang-up; then the pool must not reuse it.
                pool = http._transport._pool  # type: ignore[attr-defined]
                while not all(c.has_expired() for c in pool.connections):
                    await asyncio.sleep(0)
            assert server.connections == 3

    run(test)


def test_the_pool_never_opens_more_than_its_limit() -> None:
    async def test() -> None:
        async with serving(Server()) as server, client(max_connections=3) as http:
            tasks = [asyncio.create_task(http.get(f"http://127.0.0.1:{server.port}/slow")) for _ in range(8)]
            while server.open_now < 3:
                await asyncio.sleep(0)
            server.release.set()
            responses = await asyncio.gather(*tasks)
            assert all(r.status_code == 200 for r in responses)
            assert server.most_open == 3 and server.connections == 3

    run(test)


def test_a_stalled_response_times_out() -> None:
    async def test() -> None:
        async with serving(Server(stall=True)) as server, client(read_timeout=0.3) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(f"http://127.0.0.1:{server.port}/x")

    run(test)


def test_a_refused_connection_is_a_connect_error() -> None:
    async def test() -> None:
        async with serving(Server()) as server:
            port = server.port
        async with client() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{port}/x")

    run(test)


def test_proxied_clients_keep_httpx_stock_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    http = make_http_client(TransportOptions(), verify=True, trust_env=True)
    assert not isinstance(http._transport, DirectTransport)
