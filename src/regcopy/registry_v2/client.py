"""One async client per registry host: manifests, blobs, uploads, listings.

The client is the only place that speaks HTTP to a registry. It knows nothing
of copying; it offers the Distribution API's operations with typed errors and
makes sure credentials never leave the registry's own origin (redirects to
object storage are followed without ``Authorization``).
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from regcopy.errors import (
    DigestMismatch,
    HostNotFound,
    ManifestTooLarge,
    NotFound,
    RegistryError,
    RegistryUnreachable,
    UnsupportedManifest,
)
from regcopy.registry_v2.auth import Authenticator, Scopes, normalise_scopes, repository_scope
from regcopy.registry_v2.credentials import Credentials
from regcopy.registry_v2.errors import error_for_response
from regcopy.registry_v2.headers import parse_link_next
from regcopy.registry_v2.manifest import (
    MAX_MANIFEST_BYTES,
    Descriptor,
    Manifest,
    detect_media_type,
    parse_manifest,
)
from regcopy.registry_v2.mediatypes import MANIFEST_ACCEPT, OCI_INDEX
from regcopy.registry_v2.retry import RETRYABLE_STATUS, RetryPolicy, is_retryable, retry_after_seconds
from regcopy.registry_v2.transport import (
    TransportOptions,
    is_loopback,
    make_http_client,
    tls_failure_is_certificate,
)

_MAX_REDIRECTS = 5
_PAGE_SIZE = 1000


@dataclass(slots=True)
class UploadSession:
    """An open blob upload; ``location`` changes after every PATCH."""

    repository: str
    location: str
    offset: int = 0


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def _describe_transport_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    found = _gaierror(exc)
    if found is not None:
        return f"host name not found ({found.strerror or found})"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed ({exc})" if str(exc) else "connection failed"
    return f"{type(exc).__name__}" + (f" ({exc})" if str(exc) else "")


def _gaierror(exc: BaseException) -> socket.gaierror | None:
    """The name-resolution error behind ``exc``, if any (chains can loop: each link is visited once)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, socket.gaierror):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def _name_unknown(exc: BaseException) -> bool:
    """DNS answered that the name does not exist (as opposed to a resolver that could not be asked)."""
    found = _gaierror(exc)
    return found is not None and found.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME))


def _range_end(response: httpx.Response) -> int | None:
    """Upload ``Range: 0-N`` means N+1 bytes are stored; ``0-0`` on an empty session means 0."""
    value = response.headers.get("Range", "")
    _start, sep, end = value.partition("-")
    if not sep or not end.strip().isdigit():
        return None
    return int(end) + 1


class RegistryClient:
    """The Distribution v2 API of one registry host.

    Use as an async context manager, or call :meth:`aclose`. All methods may
    raise :class:`~regcopy.errors.RegistryError` subclasses.
    """

    def __init__(
        self,
        host: str,
        *,
        credentials: Credentials | None = None,
        insecure: bool = False,
        options: TransportOptions | None = None,
        retry: RetryPolicy | None = None,
        api_limiter: anyio.CapacityLimiter | None = None,
    ) -> None:
        self.host = host
        self.insecure = insecure
        self.options = options or TransportOptions()
        self.retry = retry or RetryPolicy()
        self.auth = Authenticator(host, credentials, self.retry)
        self.stats: Counter[str] = Counter()
        self._http: httpx.AsyncClient | None = None
        self._base = ""
        self._ready_lock = anyio.Lock()
        # Bounds short requests (manifests, HEADs, upload bookkeeping) so that they are
        # never starved behind long blob transfers, which have their own limit.
        self._api_limiter = api_limiter
        self._paused_until = 0.0

    def __repr__(self) -> str:
        return f"RegistryClient(host={self.host!r}, insecure={self.insecure!r}, auth={self.auth!r})"

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- connection and request plumbing ------------------------------------------------

    async def ping(self) -> None:
        """Find the scheme and the auth challenge with ``GET /v2/``; done once per client."""
        if self._http is not None:
            return
        async with self._ready_lock:
            for attempt in range(self.retry.attempts):
                if self._http is not None:
                    return
                try:
                    await self._connect()
                except RegistryError as exc:
                    if not is_retryable(exc) or "TLS certificate" in str(exc) or attempt + 1 == self.retry.attempts:
                        raise
                    await anyio.sleep(self.retry.delay(attempt))

    async def _connect(self) -> None:
        loopback = is_loopback(self.host)
        if self.insecure:
            attempts: list[tuple[str, bool]] = [("https", False), ("http", False)]
        elif loopback:
            # Loopback registries are nearly always plain HTTP; asking HTTP first avoids a TLS
            # handshake that a silent HTTP server would leave hanging until the connect timeout.
            attempts = [("http", False), ("https", True)]
        else:
            attempts = [("https", True)]
        failure: httpx.TransportError | None = None
        for scheme, verify in attempts:
            http = make_http_client(self.options, verify=verify, trust_env=not loopback)
            try:
                self.stats["GET"] += 1
                response = await http.get(f"{scheme}://{self.host}/v2/")
            except httpx.TransportError as exc:
                await http.aclose()
                if scheme == "https" and verify and tls_failure_is_certificate(exc):
                    raise RegistryUnreachable(
                        f"registry {self.host}: TLS certificate not trusted",
                        hint=f"install its CA, or pass --insecure-registry {self.host} to skip verification",
                    ) from None
                failure = exc
                continue
            if scheme == "http" and response.status_code == 400 and b"HTTPS" in response.content:
                await http.aclose()  # "Client sent an HTTP request to an HTTPS server"
                continue
            if response.status_code == 401:
                self.auth.learn(response)
            elif response.status_code in RETRYABLE_STATUS:
                await http.aclose()
                raise RegistryError(
                    f"registry {self.host}: GET /v2/ answered HTTP {response.status_code}",
                    status=response.status_code,
                )
            elif response.status_code >= 400:
                await http.aclose()
                raise RegistryError(
                    f"registry {self.host}: GET /v2/ answered HTTP {response.status_code};"
                    " this does not look like an OCI/Docker registry",
                    status=response.status_code,
                )
            self._http, self._base = http, f"{scheme}://{self.host}/v2/"
            return
        assert failure is not None
        error = HostNotFound if _name_unknown(failure) else RegistryUnreachable
        raise error(f"cannot reach registry {self.host}: {_describe_transport_error(failure)}")

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):
            return str(httpx.URL(self._base).join(path))
        return self._base + path

    async def _send(
        self,
        method: str,
        path: str,
        *,
        scopes: Scopes,
        what: str,
        headers: dict[str, str] | None = None,
        params: Any = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        stream: bool = False,
        limited: bool = True,
        retryable: bool = True,
    ) -> httpx.Response:
        """Send one request with auth and retries.

        A 401 refreshes the token once. Connection errors, 5xx and 429 are retried
        with backoff when the body can be sent again and repeating the request is
        safe; upload PATCHes are not (the registry may have kept part of the body),
        so their caller, the blob copier, asks for the upload offset and resumes.
        """
        await self.ping()
        replayable = content is None or isinstance(content, bytes)
        attempts = self.retry.attempts if replayable and retryable else 1
        refreshed = False
        attempt = 0
        while True:
            await self._wait_for_host()
            try:
                if limited and self._api_limiter is not None:
                    async with self._api_limiter:
                        response = await self._send_once(method, path, scopes, headers, params, content, stream)
                else:
                    response = await self._send_once(method, path, scopes, headers, params, content, stream)
            except httpx.TransportError as exc:
                if attempt + 1 >= attempts:
                    raise RegistryUnreachable(
                        f"{what}: registry {self.host} {_describe_transport_error(exc)}"
                    ) from None
                await anyio.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            status = response.status_code
            if status == 401 and replayable and not refreshed:
                await response.aclose()
                self.auth.learn(response)
                self.auth.invalidate(scopes)
                refreshed = True
                continue
            if status in RETRYABLE_STATUS and attempt + 1 < attempts:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                await response.aclose()
                delay = wait if wait is not None else self.retry.delay(attempt)
                if status == 429:
                    self._paused_until = max(self._paused_until, time.monotonic() + delay)
                else:
                    await anyio.sleep(delay)
                attempt += 1
                continue
            return response

    async def _send_once(
        self,
        method: str,
        path: str,
        scopes: Scopes,
        headers: dict[str, str] | None,
        params: Any,
        content: bytes | AsyncIterable[bytes] | None,
        stream: bool,
    ) -> httpx.Response:
        assert self._http is not None
        request_headers = dict(headers or {})
        authorization = await self.auth.header(self._http, scopes)
        if authorization:
            request_headers["Authorization"] = authorization
        request = self._http.build_request(
            method, self._url(path), headers=request_headers, params=params, content=content
        )
        self.stats[method] += 1
        return await self._http.send(request, stream=stream)

    async def _wait_for_host(self) -> None:
        """After a 429 every request to this host waits, not only the throttled one."""
        while (remaining := self._paused_until - time.monotonic()) > 0:
            await anyio.sleep(remaining)

    async def _fail(self, response: httpx.Response, what: str) -> RegistryError:
        try:
            body = await response.aread()
        except httpx.HTTPError:
            body = b""
        finally:
            await response.aclose()
        return error_for_response(response, body[:65536], what)

    def pull_scopes(self, repository: str) -> Scopes:
        return (repository_scope(repository, "pull"),)

    def push_scopes(self, repository: str, mount_from: Iterable[str] = ()) -> Scopes:
        """Scopes for writing ``repository``, plus pull on each repository blobs may be mounted from."""
        extra = [repository_scope(r, "pull") for r in mount_from if r != repository]
        return normalise_scopes([repository_scope(repository, "pull", "push"), *extra])

    # -- manifests ----------------------------------------------------------------------

    async def get_manifest(self, repository: str, reference: str) -> Manifest:
        """Fetch a manifest's exact bytes, capped at 4 MiB, and verify its digest.

        A body cut short or corrupted on the way is fetched again (the request layer
        only retries failures that happen before a response arrives).
        """
        what = f"GET manifest {self.host}/{repository}:{reference}".replace(":sha256:", "@sha256:")
        for attempt in range(self.retry.attempts):
            try:
                return await self._get_manifest_once(repository, reference, what)
            except (RegistryUnreachable, DigestMismatch):
                if attempt + 1 == self.retry.attempts:
                    raise
                await anyio.sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")

    async def _get_manifest_once(self, repository: str, reference: str, what: str) -> Manifest:
        response = await self._send(
            "GET",
            f"{repository}/manifests/{reference}",
            scopes=self.pull_scopes(repository),
            what=what,
            headers={"Accept": MANIFEST_ACCEPT},
            stream=True,
        )
        if response.status_code != 200:
            raise await self._fail(response, what)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_MANIFEST_BYTES:
                raise ManifestTooLarge(f"{what}: manifest is {declared} bytes, over the 4 MiB limit")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_MANIFEST_BYTES:
                    raise ManifestTooLarge(f"{what}: manifest is over the 4 MiB limit")
        except httpx.TransportError as exc:
            raise RegistryUnreachable(f"{what}: {_describe_transport_error(exc)}") from None
        finally:
            await response.aclose()
        body = bytes(data)
        if ":" in reference:
            expected: str | None = reference
        else:
            header = response.headers.get("Docker-Content-Digest", "")
            expected = header if header.startswith("sha256:") else None
        algorithm = expected.split(":", 1)[0] if expected else "sha256"
        if algorithm not in hashlib.algorithms_available:
            raise UnsupportedManifest(f"{what}: cannot verify digests of algorithm {algorithm!r}")
        computed = compute_digest(body, algorithm)
        if expected and computed != expected:
            raise DigestMismatch(f"{what}: content hashes to {computed}, registry said {expected}")
        media_type = detect_media_type(body, response.headers.get("Content-Type"))
        return parse_manifest(body, media_type, computed)

    async def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
        """The manifest's descriptor from a HEAD, or ``None`` if it does not exist."""
        what = f"HEAD manifest {self.host}/{repository}:{reference}"
        response = await self._send(
            "HEAD",
            f"{repository}/manifests/{reference}",
            scopes=self.pull_scopes(repository),
            what=what,
            headers={"Accept": MANIFEST_ACCEPT},
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise await self._fail(response, what)
        length = response.headers.get("Content-Length", "")
        return Descriptor(
            media_type=(response.headers.get("Content-Type") or "").split(";")[0].strip(),
            digest=response.headers.get("Docker-Content-Digest", ""),
            size=int(length) if length.isdigit() else -1,
        )

    async def put_manifest(
        self, repository: str, reference: str, manifest: Manifest, *, mount_from: Iterable[str] = ()
    ) -> None:
        """Push the exact bytes with their media type; the registry must agree on the digest."""
        what = f"PUT manifest {self.host}/{repository}:{reference}"
        response = await self._send(
            "PUT",
            f"{repository}/manifests/{reference}",
            scopes=self.push_scopes(repository, mount_from),
            what=what,
            headers={"Content-Type": manifest.media_type},
            content=manifest.data,
        )
        if response.status_code not in (200, 201, 202):
            raise await self._fail(response, what)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned.startswith("sha256:") and returned != manifest.digest:
            raise DigestMismatch(f"{what}: registry stored digest {returned}, expected {manifest.digest}")

    # -- blobs --------------------------------------------------------------------------

    async def blob_exists(self, repository: str, digest: str, *, scopes: Scopes | None = None) -> bool:
        what = f"HEAD blob {self.host}/{repository}@{digest}"
        response = await self._send(
            "HEAD", f"{repository}/blobs/{digest}", scopes=scopes or self.pull_scopes(repository), what=what
        )
        if response.status_code in (200, 307):
            return True
        if response.status_code == 404:
            return False
        raise await self._fail(response, what)

    @asynccontextmanager
    async def blob_stream(
        self, repository: str, digest: str, *, offset: int = 0
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream a blob's bytes from ``offset``; redirects never carry ``Authorization`` off-host."""
        what = f"GET blob {self.host}/{repository}@{digest}"
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        response = await self._send(
            "GET",
            f"{repository}/blobs/{digest}",
            scopes=self.pull_scopes(repository),
            what=what,
            headers=headers,
            stream=True,
            limited=False,
        )
        try:
            response = await self._follow_redirects(response, headers, what)
            if response.status_code not in (200, 206):
                raise await self._fail(response, what)
            skip = offset if (offset and response.status_code == 200) else 0
            yield self._iter_body(response, skip, what)
        finally:
            await response.aclose()

    async def _follow_redirects(self, response: httpx.Response, headers: dict[str, str], what: str) -> httpx.Response:
        assert self._http is not None
        origin = response.request.url
        for _ in range(_MAX_REDIRECTS):
            if response.status_code not in (301, 302, 303, 307, 308) or "Location" not in response.headers:
                return response
            target = response.request.url.join(response.headers["Location"])
            await response.aclose()
            redirect_headers = dict(headers)
            if (target.scheme, target.host, target.port) == (origin.scheme, origin.host, origin.port):
                authorization = response.request.headers.get("Authorization")
                if authorization:
                    redirect_headers["Authorization"] = authorization
            self.stats["GET"] += 1
            try:
                response = await self._http.send(
                    self._http.build_request("GET", target, headers=redirect_headers), stream=True
                )
            except httpx.TransportError as exc:
                raise RegistryUnreachable(
                    f"{what}: redirect target {target.host} {_describe_transport_error(exc)}"
                ) from None
        raise RegistryError(f"{what}: more than {_MAX_REDIRECTS} redirects")

    async def _iter_body(self, response: httpx.Response, skip: int, what: str) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                if skip:
                    if len(chunk) <= skip:
                        skip -= len(chunk)
                        continue
                    chunk, skip = chunk[skip:], 0
                yield chunk
        except httpx.TransportError as exc:
            raise RegistryUnreachable(f"{what}: {_describe_transport_error(exc)} while reading") from None

    async def start_upload(
        self, repository: str, *, mount: str | None = None, mount_from: str | None = None
    ) -> UploadSession | None:
        """Open an upload session, or mount ``mount`` from ``mount_from``: ``None`` means mounted (201)."""
        what = f"POST blob upload {self.host}/{repository}"
        params = {"mount": mount, "from": mount_from} if mount and mount_from else None
        response = await self._send(
            "POST",
            f"{repository}/blobs/uploads/",
            scopes=self.push_scopes(repository, [mount_from] if mount_from else []),
            what=what,
            params=params,
            content=b"",
        )
        if response.status_code == 201 and params:
            return None
        if response.status_code != 202 or "Location" not in response.headers:
            raise await self._fail(response, what)
        return UploadSession(repository, self._url(response.headers["Location"]))

    async def upload_patch(
        self,
        session: UploadSession,
        body: bytes | AsyncIterable[bytes],
        *,
        length: int | None,
        content_range: bool = False,
    ) -> None:
        """Send one PATCH; ``content_range`` adds ``Content-Range`` for chunked uploads."""
        what = f"PATCH blob upload {self.host}/{session.repository}"
        headers = {"Content-Type": "application/octet-stream"}
        if length is not None:
            headers["Content-Length"] = str(length)
            if content_range:
                headers["Content-Range"] = f"{session.offset}-{session.offset + length - 1}"
        response = await self._send(
            "PATCH",
            session.location,
            scopes=self.push_scopes(session.repository),
            what=what,
            headers=headers,
            content=body,
            limited=isinstance(body, bytes) and len(body) < 65536,
            retryable=False,
        )
        if response.status_code not in (202, 204):
            raise await self._fail(response, what)
        self.stats["bytes_uploaded"] += length or 0
        if "Location" in response.headers:
            session.location = self._url(response.headers["Location"])
        end = _range_end(response)
        session.offset = end if end is not None else session.offset + (length or 0)

    async def upload_status(self, session: UploadSession) -> int:
        """How many bytes the registry holds for ``session`` (for resuming a broken upload)."""
        what = f"GET blob upload status {self.host}/{session.repository}"
        response = await self._send("GET", session.location, scopes=self.push_scopes(session.repository), what=what)
        if response.status_code not in (200, 204):
            raise await self._fail(response, what)
        if "Location" in response.headers:
            session.location = self._url(response.headers["Location"])
        session.offset = _range_end(response) or 0
        return session.offset

    async def finish_upload(self, session: UploadSession, digest: str, body: bytes = b"") -> None:
        """Commit the upload as ``digest``; ``body`` is the last (or, for a small blob, the only) data."""
        what = f"PUT blob {self.host}/{session.repository}@{digest}"
        url = httpx.URL(session.location).copy_merge_params({"digest": digest})
        response = await self._send(
            "PUT",
            str(url),
            scopes=self.push_scopes(session.repository),
            what=what,
            content=body,
            headers={"Content-Type": "application/octet-stream"},
        )
        self.stats["bytes_uploaded"] += len(body)
        if response.status_code not in (201, 204):
            error = await self._fail(response, what)
            # A retried PUT whose first attempt landed finds its session gone: the blob is there.
            if isinstance(error, NotFound) and await self.blob_exists(session.repository, digest):
                return
            raise error

    async def cancel_upload(self, session: UploadSession) -> None:
        """Best effort: abandoned sessions otherwise linger until the registry's purge."""
        try:
            response = await self._send(
                "DELETE",
                session.location,
                scopes=self.push_scopes(session.repository),
                what=f"DELETE blob upload {self.host}/{session.repository}",
            )
            await response.aclose()
        except RegistryError:
            pass

    # -- listings -----------------------------------------------------------------------

    async def _paged(self, path: str, key: str, scopes: Scopes, what: str) -> list[str]:
        items: list[str] = []
        url: str | None = path
        params: dict[str, Any] | None = {"n": _PAGE_SIZE}
        while url:
            response = await self._send("GET", url, scopes=scopes, what=what, params=params)
            if response.status_code != 200:
                raise await self._fail(response, what)
            try:
                body = response.json()
            except ValueError:
                raise RegistryError(f"{what}: answer is not JSON") from None
            page = body.get(key) if isinstance(body, dict) else None
            items.extend(str(x) for x in page or [])
            url, params = parse_link_next(response.headers.get("Link")), None
        return items

    async def referrers(self, repository: str, digest: str) -> Manifest | None:
        """The OCI 1.1 referrers index of ``digest`` (its children refer to it); ``None`` when the API is missing."""
        what = f"list referrers of {self.host}/{repository}@{digest}"
        response = await self._send(
            "GET",
            f"{repository}/referrers/{digest}",
            scopes=self.pull_scopes(repository),
            what=what,
            headers={"Accept": OCI_INDEX},
        )
        if response.status_code in (404, 405, 400):
            await response.aclose()
            return None
        if response.status_code != 200:
            raise await self._fail(response, what)
        try:
            return parse_manifest(response.content, OCI_INDEX)
        except UnsupportedManifest:
            return None

    async def list_tags(self, repository: str) -> list[str]:
        what = f"list tags of {self.host}/{repository}"
        return await self._paged(f"{repository}/tags/list", "tags", self.pull_scopes(repository), what)

    async def catalog(self) -> list[str]:
        return await self._paged("_catalog", "repositories", ("registry:catalog:*",), f"catalog of {self.host}")
