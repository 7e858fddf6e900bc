"""Copying what refers to an image: OCI 1.1 referrers and cosign-style signature tags.

Discovery on the source, for a manifest digest ``sha256:<hex>``:
- the referrers API (``GET /v2/<repo>/referrers/<digest>``), or, where the registry
  lacks it, the fallback tag ``sha256-<hex>`` holding an index of referrers;
- cosign's tags ``sha256-<hex>.sig``, ``.att`` and ``.sbom``.

Each referrer is copied by digest (so its ``subject`` still points at the image).
A destination without the referrers API gets the ``sha256-<hex>`` fallback tag,
byte for byte as the source serves it, so clients that use the tag schema find
the referrers there too. Referrers of referrers (a signature on an SBOM) follow,
a few levels deep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regcopy.errors import NotFound
from regcopy.reference import Reference

if TYPE_CHECKING:
    from regcopy.copy.context import CopyContext
    from regcopy.copy.models import CopyOptions

COSIGN_SUFFIXES = (".sig", ".att", ".sbom")
_MAX_DEPTH = 3


def fallback_tag(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}-{encoded}"


async def copy_referrers(
    src: Reference, dst: Reference, digest: str, options: CopyOptions, context: CopyContext, depth: int = 0
) -> int:
    """Copy every referrer of ``digest`` from ``src``'s repository to ``dst``'s; returns how many were copied."""
    from regcopy.copy.image import copy_image  # image.py calls this module: import at use

    if depth >= _MAX_DEPTH:
        return 0
    source = context.pool.client(src.api_host, src.repository)
    destination = context.pool.client(dst.api_host, dst.repository)
    plain = options.model_copy(update={"referrers": False, "platforms": ()})
    src_repo = Reference(src.registry, src.repository)
    dst_repo = Reference(dst.registry, dst.repository)
    copied = 0

    tag = fallback_tag(digest)
    index = await source.referrers(src.repository, digest)
    if index is None:  # no referrers API at the source: the tag schema
        try:
            index = await source.get_manifest(src.repository, tag)
        except NotFound:
            index = None
    listed = list(index.children) if index is not None and index.is_index else []
    for referrer in listed:
        await copy_image(
            src_repo.with_digest(referrer.digest), dst_repo.with_digest(referrer.digest), plain, context=context
        )
        copied += 1 + await copy_referrers(src_repo, dst_repo, referrer.digest, options, context, depth + 1)

    if index is not None and listed and await destination.referrers(dst.repository, digest) is None:
        await destination.put_manifest(dst.repository, tag, index)

    for suffix in COSIGN_SUFFIXES:
        if await source.head_manifest(src.repository, tag + suffix) is None:
            continue
        await copy_image(src_repo.with_tag(tag + suffix), dst_repo.with_tag(tag + suffix), plain, context=context)
        copied += 1
    return copied
