"""The temporary TCR instance token is renewed before it expires and the registry client switches to it."""

from __future__ import annotations

import time

import anyio

from regcopy.copy.context import CopyContext
from regcopy.registry_v2 import Credentials, RegistryPool
from regcopy.tencent.api import APICredentials, TencentAPI
from regcopy.tencent.migrate import keep_token_fresh
from regcopy.tencent.provision import find_instance, instance_token
from tests.servers.tencent import TencentWorld
from tests.tencent.world import SECRET_ID, SECRET_KEY


def test_token_is_renewed_and_used(world: TencentWorld) -> None:
    async def run() -> None:
        api = TencentAPI(APICredentials(SECRET_ID, SECRET_KEY), world.instance.region, endpoint=world.api.url)
        context = CopyContext(pool=RegistryPool(docker_config=False))
        try:
            instance = await find_instance(api, world.instance.name)
            username, token, _ = await instance_token(api, instance)
            context.pool.set_credentials(world.tcr.host, Credentials(username, token))
            client = context.pool.client(world.tcr.host)
            assert await client.head_manifest("team/web", "v1") is None  # answered (404), not refused
            world.tcr_tokens.users.pop(username)  # the first token expires ...
            client.auth.set_credentials(Credentials(username, token))  # ... and nothing cached outlives it
            async with anyio.create_task_group() as group:
                group.start_soon(
                    lambda: keep_token_fresh(api, instance, context, world.tcr.host, time.time(), min_wait=0.01)
                )
                while world.api.calls["CreateInstanceToken"] < 2:
                    await anyio.sleep(0.01)
                group.cancel_scope.cancel()
            assert await client.head_manifest("team/web", "v1") is None  # the renewed token is accepted
        finally:
            await context.aclose()
            await api.aclose()

    anyio.run(run)
