"""A fault-injecting HTTP proxy on loopback, in front of one real registry.

Each request gets its own upstream connection (the proxy forces ``Connection:
close``), so faults can be aimed at single requests: answer with a status (500,
429 with ``Retry-After`` ...), cut the response body after N bytes, flip a byte
in the response body, or cut the request body after N bytes (a reset mid-upload).
Every request head is recorded so tests can check what the client sent.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.servers.loopserver import LoopbackTCPServer
from tests.servers.registry import RegistryServer


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Fault:
    """What to do to requests that ``match``; applied ``times`` times (``None``: always)."""

    match: Callable[[SeenRequest], bool]
    respond: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cut_response_after: int | None = None  # bytes of response body forwarded before the connection drops
    flip_response_byte: int | None = None  # offset in the response body whose bits are inverted
    cut_request_after: int | None = None  # bytes of request body forwarded before the connection drops
    flip_request_byte: int | None = None  # offset in the request body whose bits are inverted
    hold: threading.Event | None = None  # the response waits until this is set (a stall)
    times: int | None = 1
    hits: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)  # set when a matching request came in

    def take(self, request: SeenRequest) -> bool:
        if (self.times is not None and self.hits >= self.times) or not self.match(request):
            return False
        self.hits += 1
        return True


class FaultProxy(LoopbackTCPServer):
    def __init__(self, upstream: RegistryServer) -> None:
        super().__init__()
        self.upstream_port = upstream.port
        self.faults: list[Fault] = []
        self.seen: list[SeenRequest] = []

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            await self._proxy(client_reader, client_writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            client_writer.close()

    async def _proxy(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        head = await client_reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        request = SeenRequest(method, path, headers)
        self.seen.append(request)
        fault = next((f for f in self.faults if f.take(request)), None)
        if fault is not None:
            fault.arrived.set()
            if fault.hold is not None:
                hold = fault.hold
                while not hold.is_set():  # a stall: the client sees no answer until the test releases it
                    await asyncio.sleep(0.01)
        length = int(headers.get("content-length", "0") or 0)
        if fault is not None and fault.respond is not None:
            if length:
                await client_reader.readexactly(length)
            extra = "".join(f"{k}: {v}\r\n" for k, v in fault.headers.items())
            client_writer.write(
                f"HTTP/1.1 {fault.respond} Injected\r\nContent-Length: 0\r\nConnection: close\r\n{extra}\r\n".encode()
            )
            await client_writer.drain()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            rewritten = (
                [lines[0]]
                + [line for line in lines[1:] if line and not line.lower().startswith("connection:")]
                + ["Connection: close", "", ""]
            )
            upstream_writer.write("\r\n".join(rewritten).encode("latin-1"))
            await self._forward_body(client_reader, upstream_writer, length, fault)
            await self._forward_response(upstream_reader, client_writer, fault)
        finally:
            upstream_writer.close()

    async def _forward_body(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, length: int, fault: Fault | None
    ) -> None:
        remaining = length
        sent = 0
        while remaining:
            chunk = await reader.read(min(remaining, 65536))
            if not chunk:
                raise ConnectionError("client closed")
            if (
                fault is not None
                and fault.cut_request_after is not None
                and sent + len(chunk) > fault.cut_request_after
            ):
                writer.write(chunk[: fault.cut_request_after - sent])
                await writer.drain()
                raise ConnectionError("request cut")
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
            remaining -= len(chunk)

    async def _forward_response(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, fault: Fault | None
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        writer.write(head)
        offset = 0
        while chunk := await reader.read(65536):
            if fault is not None and fault.flip_response_byte is not None:
                at = fault.flip_response_byte - offset
                if 0 <= at < len(chunk):
                    chunk = chunk[:at] + bytes([chunk[at] ^ 0xFF]) + chunk[at + 1 :]
            if (
                fault is not None
                and fault.cut_response_after is not None
                and offset + len(chunk) > fault.cut_response_after
            ):
                writer.write(chunk[: fault.cut_response_after - offset])
                await writer.drain()
                raise ConnectionError("response cut")
            writer.write(chunk)
            await writer.drain()
            offset += len(chunk)
