"""Copies through Basic-auth and token-auth registries, and what a wrong password does."""

from __future__ import annotations

import anyio
import pytest

from regcopy.errors import AuthError
from regcopy.registry_v2 import Credentials, RegistryPool
from regcopy.registry_v2.retry import RetryPolicy
from tests.conftest import PASSWORD, USER, copy_now
from tests.seed import fetch_manifest
from tests.servers.registry import RegistryServer
from tests.servers.tokenserver import TokenServer


def test_basic_auth_source_to_token_auth_destination(
    basic_registry: RegistryServer, token_registry: RegistryServer, token_server: TokenServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    index, _ = seeder_for(basic_registry, (USER, PASSWORD)).push_index(
        "team/app", "1.0", [("linux", "amd64", None), ("linux", "arm64", "v8")]
    )
    creds = Credentials(USER, PASSWORD)
    pool = RegistryPool(credentials={basic_registry.host: creds, token_registry.host: creds}, docker_config=False)

    result = copy_now(f"{basic_registry.host}/team/app:1.0", f"{token_registry.host}/team/app:1.0", pool=pool)

    assert result.digest == index.digest
    assert fetch_manifest(token_registry.host, "team/app", "1.0", (USER, PASSWORD))[0] == index.data
    # tokens are cached per scope set: a handful of fetches, not one per request
    assert token_server.requests["token"] <= 3


def test_token_registry_to_itself_mounts_with_a_two_repository_scope(
    token_registry: RegistryServer, token_server: TokenServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder_for(token_registry, (USER, PASSWORD)).push_image("a/src", "v1")
    pool = RegistryPool(credentials={token_registry.host: Credentials(USER, PASSWORD)}, docker_config=False)

    result = copy_now(f"{token_registry.host}/a/src:v1", f"{token_registry.host}/b/dst:v1", pool=pool)

    assert result.stats.blobs_mounted == 3
    assert ("repository:a/src:pull", "repository:b/dst:pull,push") in token_server.scopes_seen


def test_wrong_password_is_an_auth_error_naming_the_registry(
    basic_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder_for(basic_registry, (USER, PASSWORD)).push_image("team/app", "v1")
    pool = RegistryPool(credentials={basic_registry.host: Credentials(USER, "wrong")}, docker_config=False)

    with pytest.raises(AuthError) as caught:
        copy_now(f"{basic_registry.host}/team/app:v1", f"{dst_registry.host}/team/app:v1", pool=pool)

    assert basic_registry.host in str(caught.value)
    assert "check the credentials" in str(caught.value)
    assert "wrong" not in str(caught.value)


def test_wrong_password_at_token_service(
    token_registry: RegistryServer, src_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder_for(src_registry).push_image("team/app", "v1")
    pool = RegistryPool(credentials={token_registry.host: Credentials(USER, "nope-nope")}, docker_config=False)

    with pytest.raises(AuthError, match="token service refused user 'alice'"):
        copy_now(f"{src_registry.host}/team/app:v1", f"{token_registry.host}/team/app:v1", pool=pool)
    assert token_registry.blob_uploads() == []


def test_token_rejected_mid_run_is_refreshed_once(
    token_registry: RegistryServer, token_server: TokenServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder_for(token_registry, (USER, PASSWORD)).push_image("a/src", "v1")
    pool = RegistryPool(credentials={token_registry.host: Credentials(USER, PASSWORD)}, docker_config=False)
    token_server.stale_tokens = 1  # the first token is already expired though it claims 300s

    async def run() -> None:
        try:
            head = await pool.client(token_registry.host).head_manifest("a/src", "v1")
            assert head is not None and head.digest.startswith("sha256:")
        finally:
            await pool.aclose()

    fetched_before = token_server.requests["token"]
    anyio.run(run)

    assert token_server.requests["token"] - fetched_before == 2


def test_token_service_outage_is_retried(token_registry: RegistryServer, token_server: TokenServer, seeder_for) -> None:  # type: ignore[no-untyped-def]
    pushed = seeder_for(token_registry, (USER, PASSWORD)).push_image("a/src", "v1")
    token_server.fail_next = [503, 500]
    pool = RegistryPool(
        credentials={token_registry.host: Credentials(USER, PASSWORD)},
        docker_config=False,
        retry=RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02),
    )

    result = copy_now(f"{token_registry.host}/a/src:v1", f"{token_registry.host}/b/dst:v1", pool=pool)

    assert result.digest == pushed.digest
    assert token_server.fail_next == []
