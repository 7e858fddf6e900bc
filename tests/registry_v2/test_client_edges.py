"""Registry behaviour a real server will not produce on demand, simulated with respx."""

from __future__ import annotations

import hashlib
import socket

import anyio
import httpx
import pytest
import respx

from regcopy.errors import (
    AuthError,
    DigestMismatch,
    HostNotFound,
    ManifestTooLarge,
    NotFound,
    RegistryError,
    UnsupportedManifest,
)
from regcopy.registry_v2 import Credentials, RegistryClient
from regcopy.registry_v2 import client as client_module
from regcopy.registry_v2 import mediatypes as mt
from regcopy.registry_v2.retry import RetryPolicy, is_retryable

FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)

HOST = "registry.example.com"
BASE = f"https://{HOST}/v2/"
IMAGE = b'{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"c","digest":"sha256:%s","size":1},"layers":[]}' % (
    mt.OCI_MANIFEST.encode(),
    b"0" * 64,
)
IMAGE_DIGEST = "sha256:" + hashlib.sha256(IMAGE).hexdigest()


def run(coro_fn):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        async with RegistryClient(HOST, credentials=Credentials("bob", "hunter2-secret"), retry=FAST) as client:
            return await coro_fn(client)

    return anyio.run(main)


@pytest.fixture
def registry():  # type: ignore[no-untyped-def]
    with respx.mock(assert_all_called=False) as mock:
        mock.get(BASE).respond(200)
        yield mock


def test_manifest_over_4_mib_is_refused(registry) -> None:  # type: ignore[no-untyped-def]
    registry.get(f"{BASE}ns/app/manifests/v1").respond(
        200, headers={"Content-Type": mt.OCI_MANIFEST}, content=b" " * (4 * 1024 * 1024 + 1)
    )
    with pytest.raises(ManifestTooLarge, match="over the 4 MiB limit"):
        run(lambda c: c.get_manifest("ns/app", "v1"))


def test_manifest_digest_mismatch_by_digest(registry) -> None:  # type: ignore[no-untyped-def]
    wanted = "sha256:" + "f" * 64
    registry.get(f"{BASE}ns/app/manifests/{wanted}").respond(
        200, headers={"Content-Type": mt.OCI_MANIFEST}, content=IMAGE
    )
    with pytest.raises(DigestMismatch, match=f"content hashes to {IMAGE_DIGEST}"):
        run(lambda c: c.get_manifest("ns/app", wanted))


def test_manifest_digest_mismatch_against_header(registry) -> None:  # type: ignore[no-untyped-def]
    registry.get(f"{BASE}ns/app/manifests/v1").respond(
        200, headers={"Content-Type": mt.OCI_MANIFEST, "Docker-Content-Digest": "sha256:" + "e" * 64}, content=IMAGE
    )
    with pytest.raises(DigestMismatch):
        run(lambda c: c.get_manifest("ns/app", "v1"))


def test_schema1_manifest_is_detected(registry) -> None:  # type: ignore[no-untyped-def]
    registry.get(f"{BASE}ns/old/manifests/v1").respond(
        200, headers={"Content-Type": mt.DOCKER_SCHEMA1_SIGNED}, content=b'{"schemaVersion":1,"signatures":[]}'
    )
    with pytest.raises(UnsupportedManifest, match="schema 1"):
        run(lambda c: c.get_manifest("ns/old", "v1"))


def test_oci_error_body_becomes_typed_error(registry) -> None:  # type: ignore[no-untyped-def]
    registry.get(f"{BASE}ns/app/manifests/v9").respond(
        404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {}}]}
    )
    registry.get(f"{BASE}ns/app/manifests/v8").respond(
        403, json={"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]}
    )
    boom = registry.get(f"{BASE}ns/app/manifests/v7").respond(500, text="boom")
    with pytest.raises(NotFound, match="MANIFEST_UNKNOWN: manifest unknown") as not_found:
        run(lambda c: c.get_manifest("ns/app", "v9"))
    assert not_found.value.code == "MANIFEST_UNKNOWN" and not_found.value.status == 404
    with pytest.raises(AuthError, match="DENIED"):
        run(lambda c: c.get_manifest("ns/app", "v8"))
    with pytest.raises(RegistryError, match="HTTP 500") as server_error:
        run(lambda c: c.get_manifest("ns/app", "v7"))
    assert type(server_error.value) is RegistryError
    assert boom.call_count == FAST.attempts  # 5xx is retried, then reported


def test_blob_redirect_to_another_host_drops_authorization() -> None:
    with respx.mock() as mock:
        mock.get(BASE).respond(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        blob = mock.get(f"{BASE}ns/app/blobs/{IMAGE_DIGEST}").respond(
            307, headers={"Location": "https://storage.example.net/bucket/blob?sig=1"}
        )
        storage = mock.get("https://storage.example.net/bucket/blob?sig=1").respond(200, content=IMAGE)

        async def read(client: RegistryClient) -> bytes:
            async with client.blob_stream("ns/app", IMAGE_DIGEST) as chunks:
                return b"".join([c async for c in chunks])

        assert run(read) == IMAGE
        assert blob.calls.last.request.headers["Authorization"].startswith("Basic ")
        assert "Authorization" not in storage.calls.last.request.headers


def test_tag_listing_follows_link_pagination(registry) -> None:  # type: ignore[no-untyped-def]
    registry.get(f"{BASE}ns/app/tags/list", params={"n": "1000"}).respond(
        200,
        json={"name": "ns/app", "tags": ["a", "b"]},
        headers={"Link": '</v2/ns/app/tags/list?last=b&n=2>; rel="next"'},
    )
    registry.get(f"{BASE}ns/app/tags/list", params={"last": "b", "n": "2"}).respond(
        200, json={"name": "ns/app", "tags": ["c"]}
    )
    assert run(lambda c: c.list_tags("ns/app")) == ["a", "b", "c"]


def test_bearer_token_accepts_access_token_field() -> None:
    with respx.mock() as mock:
        mock.get(BASE).respond(
            401, headers={"WWW-Authenticate": 'Bearer realm="https://auth.example.com/t",service="s"'}
        )
        token = mock.get("https://auth.example.com/t").respond(200, json={"access_token": "tok-123", "expires_in": 600})
        head = mock.head(f"{BASE}ns/app/manifests/v1").respond(
            200, headers={"Docker-Content-Digest": IMAGE_DIGEST, "Content-Type": mt.OCI_MANIFEST}
        )

        result = run(lambda c: c.head_manifest("ns/app", "v1"))

        assert result is not None and result.digest == IMAGE_DIGEST
        assert head.calls.last.request.headers["Authorization"] == "Bearer tok-123"
        sent = token.calls.last.request
        assert sent.url.params.get_list("scope") == ["repository:ns/app:pull"]
        assert sent.url.params["service"] == "s" and sent.url.params["account"] == "bob"


def test_unreachable_registry_is_named() -> None:
    with respx.mock() as mock:
        mock.get(BASE).mock(side_effect=httpx.ConnectError("Name or service not known"))
        with pytest.raises(RegistryError, match=f"cannot reach registry {HOST}"):
            run(lambda c: c.head_manifest("ns/app", "v1"))


def test_a_host_name_that_does_not_exist_is_not_retried() -> None:
    def chained(errno: int) -> httpx.ConnectError:
        try:
            try:
                raise socket.gaierror(errno, "resolver says")
            except socket.gaierror as dns:
                raise httpx.ConnectError("connect failed") from dns
        except httpx.ConnectError as exc:
            exc.__context__ = exc  # a loop in the chain must not hang the walk
            return exc

    assert client_module._name_unknown(chained(socket.EAI_NONAME))
    assert not client_module._name_unknown(chained(socket.EAI_AGAIN))  # the resolver could not be asked: retry
    assert not client_module._name_unknown(httpx.ConnectError("refused"))
    assert not is_retryable(HostNotFound("cannot reach registry x: host name not found"))


def test_repr_hides_secrets() -> None:
    client = RegistryClient(HOST, credentials=Credentials("bob", "hunter2-secret"))
    assert "hunter2" not in repr(client) and "hunter2" not in repr(client.auth)
    assert "hunter2" not in repr(Credentials("bob", "hunter2-secret"))
    assert "hunter2" not in str(Credentials("bob", "hunter2-secret"))
