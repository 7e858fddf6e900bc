"""Copying one image (a manifest or a whole index) from one reference to another.

Order matters for safety: blobs first, then index children by digest, then
the top manifest under its tag. A tag therefore never points at something
half-copied, and an interrupted copy is finished by running it again.
"""

from __future__ import annotations

import time

import anyio

from regcopy.copy.blobs import BlobCopier
from regcopy.copy.context import CopyContext
from regcopy.copy.models import CopyOptions, CopyResult, CopyStats
from regcopy.copy.referrers import copy_referrers
from regcopy.errors import ExceptionGroups, NotFound, RegcopyError, UnsupportedManifest, first_error
from regcopy.reference import Reference, parse_reference
from regcopy.registry_v2.client import RegistryClient
from regcopy.registry_v2.manifest import Descriptor, Manifest, filter_index


class _TreeCopier:
    """Pushes everything a manifest references, depth first, children before parents."""

    def __init__(
        self,
        source: RegistryClient,
        src_repo: str,
        destination: RegistryClient,
        dst_repo: str,
        blobs: BlobCopier,
        stats: CopyStats,
    ) -> None:
        self.source, self.src_repo = source, src_repo
        self.destination, self.dst_repo = destination, dst_repo
        self.blobs, self.stats = blobs, stats
        self.mount_from = [src_repo] if source.host == destination.host else []

    async def contents(self, manifest: Manifest) -> None:
        try:
            async with anyio.create_task_group() as group:
                if manifest.is_index:
                    for child in manifest.children:
                        group.start_soon(self.child, child)
                else:
                    for blob in manifest.blobs:
                        if blob.is_foreign:
                            self.stats.blobs_foreign += 1
                        else:
                            group.start_soon(self.blobs.copy, blob)
        except ExceptionGroups as group_error:
            raise first_error(group_error) from None

    async def child(self, descriptor: Descriptor) -> None:
        # A manifest the registry accepted has all its blobs: nothing below it needs copying.
        existing = await self.destination.head_manifest(self.dst_repo, descriptor.digest)
        if existing is not None:
            return
        manifest = await self.source.get_manifest(self.src_repo, descriptor.digest)
        await self.contents(manifest)
        await self.push(manifest, manifest.digest)

    async def push(self, manifest: Manifest, reference: str) -> None:
        await self.destination.put_manifest(self.dst_repo, reference, manifest, mount_from=self.mount_from)
        self.stats.manifests_pushed += 1


def resolve_destination(source: Reference, destination: Reference) -> Reference:
    """A destination without tag or digest takes the source's tag (or is pushed by digest only)."""
    if destination.tag or destination.digest:
        return destination
    return destination.with_tag(source.tag) if source.tag else destination


async def copy_image(
    source: str | Reference,
    destination: str | Reference,
    options: CopyOptions | None = None,
    *,
    context: CopyContext | None = None,
) -> CopyResult:
    """Copy ``source`` to ``destination`` byte for byte; ``skipped`` when the destination already matches.

    Raises :class:`~regcopy.errors.RegcopyError` subclasses on failure; nothing is
    tagged at the destination unless everything it references is there.
    """
    options = options or CopyOptions()
    src = source if isinstance(source, Reference) else parse_reference(source)
    dst = resolve_destination(src, destination if isinstance(destination, Reference) else parse_reference(destination))
    own_context = context is None
    ctx = context or CopyContext()
    started = time.monotonic()
    try:
        result = await _copy(src, dst, options, ctx)
        if options.referrers and not result.platforms_selected:
            result.stats.referrers_copied = await copy_referrers(src, dst, result.source_digest, options, ctx)
    finally:
        if own_context:
            await ctx.aclose()
    result.seconds = round(time.monotonic() - started, 3)
    return result


async def _copy(src: Reference, dst: Reference, options: CopyOptions, ctx: CopyContext) -> CopyResult:
    source = ctx.pool.client(src.api_host, src.repository)
    destination = ctx.pool.client(dst.api_host, dst.repository)
    platforms = options.parsed_platforms()
    dst_tag = dst.tag if not dst.digest else None

    def result(
        status: str,
        manifest_digest: str,
        source_digest: str,
        media_type: str = "",
        stats: CopyStats | None = None,
        selected: tuple[str, ...] | None = None,
    ) -> CopyResult:
        return CopyResult(
            source=str(src),
            destination=str(dst),
            status=status,  # type: ignore[arg-type]
            digest=manifest_digest,
            source_digest=source_digest,
            media_type=media_type,
            platforms_selected=selected,
            stats=stats or CopyStats(),
        )

    if not platforms and dst_tag:
        # Fast no-op: one HEAD per side, no manifest GET, no blob traffic. The destination
        # is asked first: when the tag is missing there, the source HEAD is not needed at all.
        current = await destination.head_manifest(dst.repository, dst_tag)
        if current is not None and current.digest:
            head = await source.head_manifest(src.repository, src.api_reference)
            if head is None:
                raise NotFound(f"source image {src} not found", hint="check the repository and tag")
            if head.digest == current.digest:
                return result("skipped", head.digest, head.digest, head.media_type)

    try:
        manifest = await source.get_manifest(src.repository, src.api_reference)
    except NotFound:
        raise NotFound(f"source image {src} not found", hint="check the repository and tag") from None
    source_digest, selected = manifest.digest, None
    if platforms and manifest.is_index:
        try:
            manifest = filter_index(manifest, platforms)
        except UnsupportedManifest as exc:
            raise RegcopyError(f"cannot select platforms of {src}: {exc}", hint="copy it without --platform") from None
        if not manifest.children:
            raise RegcopyError(f"no platform of {src} matches {', '.join(map(str, platforms))}")
        selected = tuple(str(p) for p in platforms)
        if dst_tag:
            current = await destination.head_manifest(dst.repository, dst_tag)
            if current is not None and current.digest == manifest.digest:
                return result("skipped", manifest.digest, source_digest, manifest.media_type, selected=selected)

    stats = CopyStats()
    blobs = BlobCopier(
        source,
        src.repository,
        destination,
        dst.repository,
        limiter=ctx.blob_limit(options.concurrency),
        locations=ctx.locations,
        inflight=ctx.inflight,
        stats=stats,
        chunk_size=options.chunk_size,
        mount=options.mount,
        retry=destination.retry,
        on_bytes=ctx.on_bytes,
    )
    tree = _TreeCopier(source, src.repository, destination, dst.repository, blobs, stats)
    await tree.contents(manifest)
    await tree.push(manifest, dst_tag or manifest.digest)
    if dst.digest and dst.digest != manifest.digest:
        raise RegcopyError(f"destination {dst} pins {dst.digest} but the copied image is {manifest.digest}")
    return result("copied", manifest.digest, source_digest, manifest.media_type, stats, selected)
