"""Retries: 5xx and 429 are retried with backoff; Retry-After is honoured and pauses the whole host."""

from __future__ import annotations

import time

import anyio
import httpx
import respx

from regcopy.registry_v2 import RegistryClient
from regcopy.registry_v2 import mediatypes as mt
from regcopy.registry_v2.retry import RetryPolicy, retry_after_seconds

HOST = "registry.example.com"
BASE = f"https://{HOST}/v2/"
DIGEST = "sha256:" + "a" * 64
FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002)


def test_5xx_then_success() -> None:
    with respx.mock() as mock:
        mock.get(BASE).respond(200)
        route = mock.head(f"{BASE}ns/app/manifests/v1").mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(502),
                httpx.Response(200, headers={"Docker-Content-Digest": DIGEST, "Content-Type": mt.OCI_MANIFEST}),
            ]
        )

        async def run() -> object:
            async with RegistryClient(HOST, retry=FAST) as client:
                return await client.head_manifest("ns/app", "v1")

        head = anyio.run(run)
        assert head is not None and head.digest == DIGEST  # type: ignore[attr-defined]
        assert route.call_count == 3


def test_429_retry_after_pauses_every_request_to_the_host() -> None:
    with respx.mock() as mock:
        mock.get(BASE).respond(200)
        throttled = mock.head(f"{BASE}ns/a/manifests/v1").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "1"}),
                httpx.Response(200, headers={"Docker-Content-Digest": DIGEST}),
            ]
        )
        other = mock.head(f"{BASE}ns/b/manifests/v1").respond(200, headers={"Docker-Content-Digest": DIGEST})
        times: dict[str, float] = {}

        async def run() -> None:
            async with RegistryClient(HOST, retry=FAST) as client:
                await client.ping()
                start = time.monotonic()

                async def first() -> None:
                    await client.head_manifest("ns/a", "v1")
                    times["a"] = time.monotonic() - start

                async def second() -> None:
                    await throttled_seen.wait()
                    await client.head_manifest("ns/b", "v1")
                    times["b"] = time.monotonic() - start

                throttled_seen = anyio.Event()
                throttled.side_effect = _signal(throttled.side_effect, throttled_seen)
                async with anyio.create_task_group() as group:
                    group.start_soon(first)
                    group.start_soon(second)

        anyio.run(run)
        assert throttled.call_count == 2 and other.call_count == 1
        # Retry-After: 1 is honoured as given, and the unthrottled request to the same host waited too
        assert times["a"] >= 1.0 and times["b"] >= 1.0


def _signal(responses, event):  # type: ignore[no-untyped-def]
    """Set ``event`` once the first (throttled) response has been handed out."""
    queue = list(responses)

    def respond(request: httpx.Request) -> httpx.Response:
        response = queue.pop(0)
        if response.status_code == 429:
            event.set()
        return response

    return respond


def test_retry_after_forms() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    delays = [RetryPolicy(base_delay=1, max_delay=8).delay(n) for n in range(6)]
    assert all(0.5 <= d <= 8 for d in delays) and delays[5] >= 4
