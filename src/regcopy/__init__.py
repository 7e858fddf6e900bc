"""regcopy: copy container images between registries, byte for byte, without a Docker daemon.

The library is async-first (anyio); :func:`copy_image_sync` is the small
synchronous facade for scripts.
"""

from __future__ import annotations

from typing import Any

from regcopy.copy import CopyContext, CopyOptions, CopyResult, copy_image
from regcopy.copy.config import SyncConfig
from regcopy.copy.engine import Event
from regcopy.copy.models import JobOutcome, SyncOptions, SyncReport
from regcopy.copy.sync import sync, verify
from regcopy.copy.verify import VerifyReport
from regcopy.errors import RegcopyError
from regcopy.reference import Reference, parse_reference
from regcopy.registry_v2 import Credentials, RegistryClient, RegistryPool

__version__ = "0.1.0"

__all__ = [
    "CopyContext",
    "CopyOptions",
    "CopyResult",
    "Credentials",
    "Event",
    "JobOutcome",
    "Reference",
    "RegcopyError",
    "RegistryClient",
    "RegistryPool",
    "SyncConfig",
    "SyncOptions",
    "SyncReport",
    "VerifyReport",
    "copy_image",
    "copy_image_sync",
    "parse_reference",
    "sync",
    "sync_sync",
    "verify",
]


def copy_image_sync(
    source: str | Reference, destination: str | Reference, options: CopyOptions | None = None, **kwargs: Any
) -> CopyResult:
    """Blocking :func:`copy_image`, for callers without an event loop."""
    import anyio

    async def run() -> CopyResult:
        return await copy_image(source, destination, options, **kwargs)

    return anyio.run(run)


def sync_sync(config: SyncConfig | str, options: SyncOptions | None = None, **kwargs: Any) -> SyncReport:
    """Blocking :func:`sync`."""
    import anyio

    async def run() -> SyncReport:
        return await sync(config, options, **kwargs)

    return anyio.run(run)
