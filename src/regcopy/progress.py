"""Rendering engine events for people: a live display on a terminal, periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TextIO, TypeVar

import anyio

from regcopy.copy.engine import Event, EventHandler

T = TypeVar("T")


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def human_seconds(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressState:
    """Counts kept from events; shared by both renderers."""

    def __init__(self) -> None:
        self.total = 0
        self.counts: Counter[str] = Counter()
        self.bytes = 0
        self.started = time.monotonic()

    def handle(self, event: Event) -> None:
        if event.kind == "planned":
            self.total = event.total
        elif event.kind == "finished" and event.outcome is not None:
            self.counts[event.outcome.status] += 1
        elif event.kind == "bytes":
            self.bytes += event.nbytes

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.bytes / elapsed
        eta = ""
        if 0 < self.done < self.total:
            eta = f", ETA {human_seconds(elapsed / self.done * (self.total - self.done))}"
        return (
            f"progress: {self.done}/{self.total} jobs (copied {self.counts['copied']},"
            f" skipped {self.counts['skipped']}, failed {self.counts['failed']}),"
            f" {human_bytes(self.bytes)} uploaded, {human_bytes(rate)}/s{eta}"
        )


class LineProgress:
    """For logs and pipes: a line every ``interval`` seconds, only when something changed."""

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        self.state = ProgressState()
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last: tuple[int, int] | None = None

    def handle(self, event: Event) -> None:
        self.state.handle(event)

    def tick(self) -> None:
        snapshot = (self.state.done, self.state.bytes)
        if snapshot != self._last:
            print(self.state.line(), file=self.stream, flush=True)
            self._last = snapshot

    def close(self) -> None:
        pass


class LiveProgress:
    """For terminals: a rich progress bar with jobs, bytes, throughput and ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.state = ProgressState()
        self.interval = 0.5
        self._progress = Progress(
            TextColumn("sync"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("sync", total=None, detail="")
        self._progress.start()

    def handle(self, event: Event) -> None:
        self.state.handle(event)

    def tick(self) -> None:
        state = self.state
        elapsed = max(time.monotonic() - state.started, 1e-6)
        detail = (
            f"copied {state.counts['copied']} skipped {state.counts['skipped']}"
            f" failed {state.counts['failed']} {human_bytes(state.bytes)}"
            f" {human_bytes(state.bytes / elapsed)}/s"
        )
        self._progress.update(self._task, total=state.total or None, completed=state.done, detail=detail)

    def close(self) -> None:
        self.tick()
        self._progress.stop()


async def with_progress(work: Callable[[EventHandler | None], Awaitable[T]], *, quiet: bool) -> T:
    """Run ``work`` with a progress view fed by its events (none when ``quiet``) and refreshed while it runs."""
    view: LineProgress | LiveProgress | None = None
    if not quiet:
        view = LiveProgress() if sys.stderr.isatty() else LineProgress()
    if view is None:
        return await work(None)

    async def tick(active: LineProgress | LiveProgress) -> None:
        while True:
            await anyio.sleep(active.interval)
            active.tick()

    async with anyio.create_task_group() as group:
        group.start_soon(tick, view)
        try:
            result = await work(view.handle)
        finally:
            group.cancel_scope.cancel()
            view.close()
    return result
