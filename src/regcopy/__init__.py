"""regcopy: copy container images between registries, byte for byte, without a Docker daemon.

The library is async-first (anyio); :func:`copy_image_sync` and :func:`sync_sync`
are the small synchronous facade for scripts. Names are imported lazily so that
``regcopy --help`` and other light commands start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CopyContext": "regcopy.copy.context",
    "CopyOptions": "regcopy.copy.models",
    "CopyResult": "regcopy.copy.models",
    "Credentials": "regcopy.registry_v2.credentials",
    "Event": "regcopy.copy.engine",
    "JobOutcome": "regcopy.copy.models",
    "Reference": "regcopy.reference",
    "RegcopyError": "regcopy.errors",
    "RegistryClient": "regcopy.registry_v2.client",
    "RegistryPool": "regcopy.registry_v2.pool",
    "SyncConfig": "regcopy.copy.config",
    "SyncOptions": "regcopy.copy.models",
    "SyncReport": "regcopy.copy.models",
    "VerifyReport": "regcopy.copy.verify",
    "copy_image": "regcopy.copy.image",
    "parse_reference": "regcopy.reference",
    "sync": "regcopy.copy.sync",
    "verify": "regcopy.copy.sync",
}

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

if TYPE_CHECKING:
    from regcopy.copy.config import SyncConfig
    from regcopy.copy.context import CopyContext
    from regcopy.copy.engine import Event
    from regcopy.copy.image import copy_image
    from regcopy.copy.models import CopyOptions, CopyResult, JobOutcome, SyncOptions, SyncReport
    from regcopy.copy.sync import sync, verify
    from regcopy.copy.verify import VerifyReport
    from regcopy.errors import RegcopyError
    from regcopy.reference import Reference, parse_reference
    from regcopy.registry_v2.client import RegistryClient
    from regcopy.registry_v2.credentials import Credentials
    from regcopy.registry_v2.pool import RegistryPool


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'regcopy' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def copy_image_sync(
    source: str | Reference, destination: str | Reference, options: CopyOptions | None = None, **kwargs: Any
) -> CopyResult:
    """Blocking :func:`copy_image`, for callers without an event loop."""
    import anyio

    from regcopy.copy.image import copy_image

    async def run() -> CopyResult:
        return await copy_image(source, destination, options, **kwargs)

    return anyio.run(run)


def sync_sync(config: SyncConfig | str, options: SyncOptions | None = None, **kwargs: Any) -> SyncReport:
    """Blocking :func:`sync`."""
    import anyio

    from regcopy.copy.sync import sync

    async def run() -> SyncReport:
        return await sync(config, options, **kwargs)

    return anyio.run(run)
