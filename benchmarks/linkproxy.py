"""A TCP proxy on loopback that behaves like a long, narrow link: added latency and a bandwidth cap.

Each direction of the proxy is one shared link for all connections through it:
a chunk occupies the link for ``len / bandwidth`` seconds after the previous one,
then arrives ``latency`` seconds later, in order. That is how a VPC or
cross-region path looks to a copier: round trips cost ``2 x latency`` and
concurrency is what fills the pipe.

    proxy = LinkProxy("127.0.0.1", 5000, latency=0.020, bandwidth=100e6).start()
    ...  # talk to proxy.host instead of 127.0.0.1:5000
    proxy.stop()
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from tests.servers.loopserver import LoopbackTCPServer


@dataclass
class _Link:
    """One direction: when it is next free to start sending, shared by every connection."""

    latency: float
    bandwidth: float | None  # bytes per second; None = unlimited
    free_at: float = 0.0

    def schedule(self, size: int) -> float:
        """The monotonic time at which ``size`` bytes sent now are fully delivered."""
        now = time.monotonic()
        start = max(now, self.free_at)
        busy = size / self.bandwidth if self.bandwidth else 0.0
        self.free_at = start + busy
        return start + busy + self.latency


class LinkProxy(LoopbackTCPServer):
    def __init__(self, upstream_host: str, upstream_port: int, *, latency: float, bandwidth: float | None) -> None:
        super().__init__()
        self.upstream = (upstream_host, upstream_port)
        self.up = _Link(latency, bandwidth)
        self.down = _Link(latency, bandwidth)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        # The TCP handshake crosses the link too: one round trip before the first byte.
        await asyncio.sleep(2 * self.up.latency)
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer, self.up),
            self._pipe(upstream_reader, client_writer, self.down),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link) -> None:
        """Read as it comes, deliver each chunk at its scheduled time, in order."""
        # Bounded, like a TCP window: a copier cannot push far ahead of what the link has delivered.
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=256)

        async def deliver() -> None:
            broken = False
            while True:
                due, data = await queue.get()
                if not data:
                    break
                if broken:
                    continue  # the far side is gone: keep draining so the reader never blocks
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    writer.write(data)
                    await writer.drain()
                except ConnectionError:
                    broken = True
            if not broken and writer.can_write_eof():
                writer.write_eof()

        sender = asyncio.create_task(deliver())
        try:
            while data := await reader.read(64 * 1024):
                await queue.put((link.schedule(len(data)), data))
        except ConnectionError:
            pass
        finally:
            await queue.put((0.0, b""))
            await sender
            writer.close()
