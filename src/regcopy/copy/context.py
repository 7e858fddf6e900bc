"""What every copy in one run shares: clients, global limits, known blob locations, in-flight uploads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from regcopy.copy.blobcache import BlobLocations
from regcopy.registry_v2.pool import RegistryPool


@dataclass
class CopyContext:
    """Shared state of a run.

    Sharing it is what makes limits global (one blob budget, not one per job),
    makes a blob needed by many jobs upload once per destination registry, and
    lets later jobs mount what earlier ones uploaded.
    """

    pool: RegistryPool = field(default_factory=RegistryPool)
    locations: BlobLocations = field(default_factory=BlobLocations)
    blob_limiter: anyio.CapacityLimiter | None = None
    on_bytes: Callable[[int], None] | None = None
    inflight: dict[tuple[str, str, str], anyio.Event] = field(default_factory=dict)

    def blob_limit(self, concurrency: int) -> anyio.CapacityLimiter:
        """The run's blob budget, created from the first copy's ``concurrency`` if not given."""
        if self.blob_limiter is None:
            self.blob_limiter = anyio.CapacityLimiter(concurrency)
        return self.blob_limiter

    async def aclose(self) -> None:
        await self.pool.aclose()
        self.locations.close()
