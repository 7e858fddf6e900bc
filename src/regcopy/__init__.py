"""regcopy: copy container images between registries, byte for byte, without a Docker daemon.

The library is async-first (anyio); :func:`copy_image_sync` is the small
synchronous facade for scripts.
"""

from __future__ import annotations

from typing import Any

from regcopy.copy import CopyContext, CopyOptions, CopyResult, copy_image
from regcopy.errors import RegcopyError
from regcopy.reference import Reference, parse_reference
from regcopy.registry_v2 import Credentials, RegistryClient, RegistryPool

__version__ = "0.1.0"

__all__ = [
    "CopyContext",
    "CopyOptions",
    "CopyResult",
    "Credentials",
    "Reference",
    "RegcopyError",
    "RegistryClient",
    "RegistryPool",
    "copy_image",
    "copy_image_sync",
    "parse_reference",
]


def copy_image_sync(
    source: str | Reference, destination: str | Reference, options: CopyOptions | None = None, **kwargs: Any
) -> CopyResult:
    """Blocking :func:`copy_image`, for callers without an event loop."""
    import anyio

    async def run() -> CopyResult:
        return await copy_image(source, destination, options, **kwargs)

    return anyio.run(run)
