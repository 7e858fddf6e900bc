"""Moving one blob from a source repository to a destination repository.

The hot path: HEAD at the destination, else a cross-repository mount if the
blob is known to live elsewhere on the destination registry, else a streamed
source GET piped into the destination upload with the digest checked on the
way. Nothing is buffered beyond one read (or one upload chunk, in chunked mode).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import AsyncIterator

import anyio

from regcopy.copy.models import CopyStats
from regcopy.errors import AuthError, DigestMismatch
from regcopy.registry_v2.client import RegistryClient, UploadSession
from regcopy.registry_v2.manifest import Descriptor


class BlobLocations:
    """Where blobs are known to live on each registry, learned from HEADs, mounts and uploads."""

    def __init__(self) -> None:
        self._where: dict[tuple[str, str], set[str]] = defaultdict(set)

    def add(self, host: str, digest: str, repository: str) -> None:
        self._where[(host, digest)].add(repository)

    def repositories(self, host: str, digest: str) -> list[str]:
        return sorted(self._where.get((host, digest), ()))


async def verified(chunks: AsyncIterator[bytes], digest: str, size: int, what: str) -> AsyncIterator[bytes]:
    """Pass ``chunks`` through, failing at the end unless they hash to ``digest`` with ``size`` bytes."""
    algorithm, _, expected = digest.partition(":")
    hasher = hashlib.new(algorithm)
    seen = 0
    async for chunk in chunks:
        hasher.update(chunk)
        seen += len(chunk)
        if seen > size:
            raise DigestMismatch(f"{what}: more bytes than the {size} the manifest declares")
        yield chunk
    if seen != size:
        raise DigestMismatch(f"{what}: got {seen} bytes, the manifest declares {size}")
    if hasher.hexdigest() != expected:
        raise DigestMismatch(f"{what}: content hashes to {algorithm}:{hasher.hexdigest()}")


class BlobCopier:
    """Copies blobs between two repositories, each blob at most once per copier."""

    def __init__(
        self,
        source: RegistryClient,
        source_repo: str,
        destination: RegistryClient,
        destination_repo: str,
        *,
        limiter: anyio.CapacityLimiter,
        locations: BlobLocations,
        stats: CopyStats,
        chunk_size: int | None = None,
        mount: bool = True,
    ) -> None:
        self.source, self.source_repo = source, source_repo
        self.destination, self.destination_repo = destination, destination_repo
        self.limiter, self.locations, self.stats = limiter, locations, stats
        self.chunk_size, self.mount = chunk_size, mount
        self._done: dict[str, anyio.Event] = {}
        # On a same-registry copy the source repository is itself a mount candidate.
        self._mount_from_source = mount and source.host == destination.host and source_repo != destination_repo

    async def copy(self, blob: Descriptor) -> None:
        event = self._done.get(blob.digest)
        if event is not None:
            await event.wait()
            return
        event = self._done[blob.digest] = anyio.Event()
        try:
            async with self.limiter:
                await self._copy(blob)
        finally:
            event.set()

    async def _copy(self, blob: Descriptor) -> None:
        dst, repo, host = self.destination, self.destination_repo, self.destination.host
        if await dst.blob_exists(repo, blob.digest, scopes=dst.push_scopes(repo)):
            self.stats.blobs_existing += 1
            self.locations.add(host, blob.digest, repo)
            return
        mounted, session = await self._try_mounts(blob)
        if mounted:
            return
        if session is None:
            session = await dst.start_upload(repo)
            assert session is not None
        try:
            await self._upload(blob, session)
            await dst.finish_upload(session, blob.digest)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await dst.cancel_upload(session)
            raise
        self.stats.blobs_uploaded += 1
        self.stats.bytes_uploaded += blob.size
        self.locations.add(host, blob.digest, repo)

    async def _try_mounts(self, blob: Descriptor) -> tuple[bool, UploadSession | None]:
        """Mount from a known repository: (True, None) when mounted, else the session a refused mount opened."""
        if not self.mount:
            return False, None
        dst, repo, host = self.destination, self.destination_repo, self.destination.host
        candidates = [r for r in self.locations.repositories(host, blob.digest) if r != repo]
        if self._mount_from_source and self.source_repo not in candidates:
            candidates.insert(0, self.source_repo)
        for candidate in candidates[:3]:
            try:
                session = await dst.start_upload(repo, mount=blob.digest, mount_from=candidate)
            except AuthError:
                continue  # some registries answer 401/403 to a mount they will not do
            if session is None:
                self.stats.blobs_mounted += 1
                self.locations.add(host, blob.digest, repo)
                return True, None
            return False, session  # 202: the registry opened a plain upload instead
        return False, None

    async def _upload(self, blob: Descriptor, session: UploadSession) -> None:
        what = f"blob {self.source.host}/{self.source_repo}@{blob.digest}"
        async with self.source.blob_stream(self.source_repo, blob.digest) as chunks:
            body = verified(chunks, blob.digest, blob.size, what)
            if self.chunk_size is None:
                await self.destination.upload_patch(session, body, length=blob.size)
                return
            buffer = bytearray()
            async for chunk in body:
                buffer += chunk
                while len(buffer) >= self.chunk_size:
                    piece = bytes(buffer[: self.chunk_size])
                    del buffer[: self.chunk_size]
                    await self.destination.upload_patch(session, piece, length=len(piece), content_range=True)
            if buffer:
                await self.destination.upload_patch(session, bytes(buffer), length=len(buffer), content_range=True)
