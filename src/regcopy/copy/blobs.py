"""Moving one blob from a source repository to a destination repository.

The hot path: HEAD at the destination, else a cross-repository mount if the
blob is known to live elsewhere on the destination registry, else a streamed
source GET piped into the destination upload with the digest checked on the
way. Nothing is buffered beyond one read (or one upload chunk, in chunked mode).

A transfer that breaks midway resumes from what the destination already holds
(upload status ``Range``) with a source ``Range`` request; the hash state is
checkpointed every few MiB so a resumed transfer is still verified end to end.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from regcopy.copy.blobcache import BlobLocations
from regcopy.copy.models import CopyStats
from regcopy.errors import AuthError, DigestMismatch, RegistryError
from regcopy.registry_v2.client import RegistryClient, UploadSession
from regcopy.registry_v2.manifest import Descriptor
from regcopy.registry_v2.retry import RetryPolicy, is_retryable

if TYPE_CHECKING:
    from hashlib import _Hash

log = logging.getLogger(__name__)

_CHECKPOINT_EVERY = 8 * 1024 * 1024
_MAX_MOUNT_CANDIDATES = 3
# Blobs up to this size go in the body of the final PUT instead of a PATCH of their own
# (both are in the OCI spec; every registry accepts them); memory: one such blob per upload in flight.
MONOLITHIC_MAX_BYTES = 1024 * 1024
# The registry no longer knows the upload session: start again in a new one.
_SESSION_LOST_CODES = frozenset({"BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID"})


class _HashState:
    """Running digest of a blob with checkpoints, so a resume can restart hashing near any offset."""

    def __init__(self, digest: str, size: int) -> None:
        self.algorithm, _, self.expected = digest.partition(":")
        self.size = size
        self.hasher: _Hash = hashlib.new(self.algorithm)
        self.position = 0
        self._checkpoints: list[tuple[int, _Hash]] = [(0, self.hasher.copy())]

    def rewind(self, offset: int) -> int:
        """Return to the last checkpoint at or before ``offset``; the caller re-reads from there."""
        position, state = max((c for c in self._checkpoints if c[0] <= offset), key=lambda c: c[0])
        self.hasher, self.position = state.copy(), position
        return position

    def update(self, chunk: bytes) -> None:
        self.hasher.update(chunk)
        before, self.position = self.position, self.position + len(chunk)
        if before // _CHECKPOINT_EVERY != self.position // _CHECKPOINT_EVERY:
            self._checkpoints.append((self.position, self.hasher.copy()))


async def verified_from(
    chunks: AsyncIterator[bytes],
    state: _HashState,
    send_from: int,
    what: str,
    on_bytes: Callable[[int], None] | None = None,
) -> AsyncIterator[bytes]:
    """Hash everything read, yield only what lies at or after ``send_from``, and fail at the end on a mismatch.

    Raising at the end aborts the upload before its final PUT, so a corrupt blob is never committed.
    """
    async for chunk in chunks:
        start = state.position
        state.update(chunk)
        if state.position > state.size:
            raise DigestMismatch(f"{what}: more bytes than the {state.size} the manifest declares")
        if state.position <= send_from:
            continue
        if start < send_from:
            chunk = chunk[send_from - start :]
        if on_bytes is not None:
            on_bytes(len(chunk))
        yield chunk
    if state.position != state.size:
        raise DigestMismatch(f"{what}: got {state.position} bytes, the manifest declares {state.size}")
    if state.hasher.hexdigest() != state.expected:
        raise DigestMismatch(f"{what}: content hashes to {state.algorithm}:{state.hasher.hexdigest()}")


class BlobCopier:
    """Copies the blobs of one source repository into one destination repository."""

    def __init__(
        self,
        source: RegistryClient,
        source_repo: str,
        destination: RegistryClient,
        destination_repo: str,
        *,
        limiter: anyio.CapacityLimiter,
        locations: BlobLocations,
        inflight: dict[tuple[str, str, str], anyio.Event],
        stats: CopyStats,
        chunk_size: int | None = None,
        mount: bool = True,
        retry: RetryPolicy | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self.source, self.source_repo = source, source_repo
        self.destination, self.destination_repo = destination, destination_repo
        self.limiter, self.locations, self.inflight, self.stats = limiter, locations, inflight, stats
        self.chunk_size, self.mount = chunk_size, mount
        self.retry = retry or RetryPolicy()
        self.on_bytes = on_bytes
        # On a same-registry copy the source repository is itself a mount candidate.
        self._mount_from_source = mount and source.host == destination.host and source_repo != destination_repo

    async def copy(self, blob: Descriptor) -> None:
        """Copy ``blob`` unless it is there, doing each piece of work once per run.

        Two levels of single flight: per destination repository (other tags of the
        same repository wait, then find the blob with a HEAD) and per destination
        registry (other repositories wait for the one upload, then mount it).
        """
        host = self.destination.host
        async with self._single_flight((host, blob.digest, self.destination_repo)):
            await self._wait((host, blob.digest, ""))
            if self.locations.known(host, blob.digest):
                async with self.limiter:
                    await self._copy(blob)
                return
            async with self._single_flight((host, blob.digest, "")), self.limiter:
                await self._copy(blob)

    async def _wait(self, key: tuple[str, str, str]) -> None:
        while (running := self.inflight.get(key)) is not None:
            await running.wait()

    @asynccontextmanager
    async def _single_flight(self, key: tuple[str, str, str]) -> AsyncIterator[None]:
        await self._wait(key)
        event = self.inflight[key] = anyio.Event()
        try:
            yield
        finally:
            del self.inflight[key]
            event.set()

    async def _copy(self, blob: Descriptor) -> None:
        dst, repo, host = self.destination, self.destination_repo, self.destination.host
        if self.locations.seen_in(host, blob.digest, repo):
            self.stats.blobs_existing += 1  # uploaded, mounted or found here earlier in this run
            return
        # A mount answers "already here" as well as a HEAD would, so a known blob skips the HEAD.
        mounted, session = await self._try_mounts(blob)
        if mounted:
            return
        if await dst.blob_exists(repo, blob.digest, scopes=dst.push_scopes(repo)):
            if session is not None:
                await dst.cancel_upload(session)
            self.stats.blobs_existing += 1
            self.locations.add(host, blob.digest, repo)
            return
        if session is None:
            session = await dst.start_upload(repo)
            assert session is not None
        await self._upload(blob, session)
        self.stats.blobs_uploaded += 1
        self.stats.bytes_uploaded += blob.size
        self.locations.add(host, blob.digest, repo)

    async def _try_mounts(self, blob: Descriptor) -> tuple[bool, UploadSession | None]:
        """(True, None) when mounted; else the session a refused mount opened (202), if any."""
        if not self.mount:
            return False, None
        dst, repo, host = self.destination, self.destination_repo, self.destination.host
        candidates = [r for r in self.locations.repositories(host, blob.digest) if r != repo]
        if self._mount_from_source and self.source_repo not in candidates:
            candidates.insert(0, self.source_repo)
        for candidate in candidates[:_MAX_MOUNT_CANDIDATES]:
            try:
                session = await dst.start_upload(repo, mount=blob.digest, mount_from=candidate)
            except AuthError:
                continue  # some registries answer 401/403 to a mount they will not do
            if session is None:
                self.stats.blobs_mounted += 1
                self.locations.add(host, blob.digest, repo)
                return True, None
            return False, session
        return False, None

    async def _upload(self, blob: Descriptor, session: UploadSession) -> None:
        """Stream the blob into ``session`` and commit it, resuming after retryable failures.

        A digest mismatch (ours, or the registry's at the final PUT) restarts from zero
        with a new session: bytes already hashed cannot be trusted, so there is nothing
        to resume from; so does a session the registry has dropped. Whatever session is
        open when this gives up is deleted.
        """
        state = _HashState(blob.digest, blob.size)
        try:
            for attempt in range(self.retry.attempts):
                try:
                    tail = await self._send(blob, session, state)
                    await self.destination.finish_upload(session, blob.digest, tail)
                    return
                except RegistryError as exc:
                    corrupt = isinstance(exc, DigestMismatch)
                    lost = exc.code in _SESSION_LOST_CODES  # e.g. a PUT retried after a reset mid-body
                    if not (corrupt or lost or is_retryable(exc)) or attempt + 1 == self.retry.attempts:
                        raise
                    log.info("blob %s: %s; retrying (attempt %d)", blob.digest, exc, attempt + 2)
                await anyio.sleep(self.retry.delay(attempt))
                if corrupt or lost:
                    state = _HashState(blob.digest, blob.size)
                    session = await self._fresh_session(session)
                else:
                    session = await self._resume_point(session)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.destination.cancel_upload(session)
            raise
        raise AssertionError("unreachable")

    async def _resume_point(self, session: UploadSession) -> UploadSession:
        """Ask the destination how much it kept; a session it no longer knows is replaced by a new one."""
        try:
            await self.destination.upload_status(session)
            return session
        except RegistryError:
            return await self._fresh_session(session)

    async def _fresh_session(self, session: UploadSession) -> UploadSession:
        await self.destination.cancel_upload(session)
        fresh = await self.destination.start_upload(self.destination_repo)
        assert fresh is not None
        return fresh

    async def _send(self, blob: Descriptor, session: UploadSession, state: _HashState) -> bytes:
        """Send the blob from the session's offset; returns what the final PUT must carry.

        A small blob is read whole (and verified) and goes in the final PUT's body:
        one request fewer per blob, which is most of the cost of copying small images.
        """
        what = f"blob {self.source.host}/{self.source_repo}@{blob.digest}"
        send_from = session.offset
        read_from = state.rewind(send_from)
        async with self.source.blob_stream(self.source_repo, blob.digest, offset=read_from) as chunks:
            body = verified_from(chunks, state, send_from, what, self.on_bytes)
            if self.chunk_size is None and blob.size - send_from <= MONOLITHIC_MAX_BYTES:
                return b"".join([chunk async for chunk in body])
            if self.chunk_size is None:
                await self.destination.upload_patch(
                    session, body, length=blob.size - send_from, content_range=send_from > 0
                )
                return b""
            buffer = bytearray()
            async for chunk in body:
                buffer += chunk
                while len(buffer) >= self.chunk_size:
                    piece = bytes(buffer[: self.chunk_size])
                    del buffer[: self.chunk_size]
                    await self.destination.upload_patch(session, piece, length=len(piece), content_range=True)
            if buffer or blob.size == 0:
                await self.destination.upload_patch(session, bytes(buffer), length=len(buffer), content_range=True)
        return b""
