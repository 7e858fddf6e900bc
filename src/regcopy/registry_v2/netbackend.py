"""An httpcore network backend on plain asyncio protocols.

httpcore's default backend on asyncio goes through anyio: every read and write
opens a cancel scope, and every "is this idle connection still alive?" check
rebuilds a dict of socket attributes with a ``getpeername`` system call. A sync
of a thousand small images makes tens of thousands of such calls, and the
profile showed them as the largest single cost. This backend keeps the bytes
the event loop has already received in a buffer, so an idle connection is
known to be closed without a system call, a read of buffered data costs no
suspension, and timeouts are one timer handle instead of a cancel scope.

It is used only when the running event loop is asyncio; under trio (anyio's
other backend) every call goes to httpcore's own backend.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore

# By default, stop reading from the socket once this much is buffered and unread (backpressure
# when the consumer, say an upload, is slower than the producer); resume below a quarter of it.
DEFAULT_READ_BUFFER = 1024 * 1024
# httpcore asks for 64 KiB at a time; what the loop received (up to 256 KiB per socket read) is handed over
# whole instead: h11 takes data of any size, and a 1 GiB blob then costs 12 % less CPU (fewer passes through
# h11, httpx and the digest check, and no slicing copies).
_READ_AT_LEAST = 256 * 1024
# Reads served from the buffer without suspending yield to the loop every so often,
# so that one fast blob stream cannot starve the small requests of other jobs.
_YIELD_EVERY = 16

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class _StreamProtocol(asyncio.Protocol):
    """Buffers what the transport delivers and wakes the one reader or writer waiting."""

    def __init__(self, read_buffer: int = DEFAULT_READ_BUFFER) -> None:
        self.high_water, self.low_water = read_buffer, read_buffer // 4
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.paused_reading = False
        self.paused_writing = False
        self._reader: asyncio.Future[None] | None = None
        self._drainer: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > self.high_water and not self.paused_reading and self.transport is not None:
            self.paused_reading = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        self._wake_drainer()

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        self._wake_drainer()

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    def _wake_drainer(self) -> None:
        if self._drainer is not None and not self._drainer.done():
            self._drainer.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            self.chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        self.buffered -= len(chunk)
        if self.paused_reading and self.buffered < self.low_water and self.transport is not None:
            self.paused_reading = False
            self.transport.resume_reading()
        return chunk

    async def wait_readable(self, timeout: float | None) -> None:
        self._reader = asyncio.get_running_loop().create_future()
        await _wait(self._reader, timeout, httpcore.ReadTimeout)

    async def wait_drained(self, timeout: float | None) -> None:
        self._drainer = asyncio.get_running_loop().create_future()
        await _wait(self._drainer, timeout, httpcore.WriteTimeout)


def _expire(future: asyncio.Future[None], error: type[Exception]) -> None:
    if not future.done():
        future.set_exception(error())


async def _wait(future: asyncio.Future[None], timeout: float | None, error: type[Exception]) -> None:
    """Await ``future``, failing with ``error`` after ``timeout`` seconds (one timer, no task, no scope)."""
    if timeout is None:
        await future
        return
    timer = asyncio.get_running_loop().call_later(timeout, _expire, future, error)
    try:
        await future
    finally:
        timer.cancel()


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, protocol: _StreamProtocol) -> None:
        self._protocol = protocol
        self._unsuspended_reads = 0

    @property
    def _transport(self) -> asyncio.Transport:
        transport = self._protocol.transport
        assert transport is not None
        return transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if protocol.chunks:
            self._unsuspended_reads += 1
            if self._unsuspended_reads >= _YIELD_EVERY:
                self._unsuspended_reads = 0
                await asyncio.sleep(0)
            return protocol.take(max(max_bytes, _READ_AT_LEAST))
        self._unsuspended_reads = 0
        while not protocol.chunks:
            if protocol.eof:
                if protocol.error is not None:
                    raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
                return b""
            await protocol.wait_readable(timeout)
        return protocol.take(max(max_bytes, _READ_AT_LEAST))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.eof or self._transport.is_closing():
            raise httpcore.WriteError(str(protocol.error) if protocol.error else "connection closed")
        self._transport.write(buffer)
        while protocol.paused_writing and not protocol.eof:
            await protocol.wait_drained(timeout)
        if protocol.error is not None:
            raise httpcore.WriteError(str(protocol.error))

    async def aclose(self) -> None:
        transport = self._protocol.transport
        if transport is not None and not transport.is_closing():
            transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            transport = await loop.start_tls(
                self._transport,
                self._protocol,
                ssl_context,
                server_hostname=server_hostname,
                ssl_handshake_timeout=timeout,
            )
        except (TimeoutError, asyncio.TimeoutError) as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # the peer closed during the handshake
            raise httpcore.ConnectError("connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)
        self._protocol.transport = transport
        return self

    def get_extra_info(self, info: str) -> Any:
        transport = self._protocol.transport
        if info == "is_readable":
            # An idle HTTP/1.1 connection that has data or EOF waiting was closed by the server.
            return bool(self._protocol.chunks) or self._protocol.eof
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """TCP over asyncio protocols when the loop is asyncio; httpcore's default backend otherwise."""

    def __init__(self, read_buffer: int = DEFAULT_READ_BUFFER) -> None:
        self._fallback = httpcore.AnyIOBackend()
        self._read_buffer = read_buffer

    @staticmethod
    def _on_asyncio() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        import sniffio

        return sniffio.current_async_library() == "asyncio"

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if not self._on_asyncio():
            return await self._fallback.connect_tcp(
                host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
            )
        loop = asyncio.get_running_loop()
        protocol = _StreamProtocol(self._read_buffer)
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: protocol, host, port, local_addr=(local_address, 0) if local_address else None
                ),
                timeout,
            )
        except (TimeoutError, asyncio.TimeoutError) as exc:
            raise httpcore.ConnectTimeout(f"connecting to {host}:{port} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        stream = AsyncioStream(protocol)
        sock = stream.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._fallback.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        if self._on_asyncio():
            await asyncio.sleep(seconds)
        else:
            await self._fallback.sleep(seconds)
