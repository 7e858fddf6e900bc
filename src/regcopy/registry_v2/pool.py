"""One :class:`RegistryClient` per registry host, shared by everything in a run.

Sharing the client shares its connection pool and its token cache, so a
thousand jobs against one registry cost one ``/v2/`` ping and one token per
scope set, not one per job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from regcopy.reference import normalise_registry
from regcopy.registry_v2.client import RegistryClient
from regcopy.registry_v2.credentials import Credentials, credentials_from_docker_config
from regcopy.registry_v2.transport import TransportOptions, host_matches, insecure_from_env


class RegistryPool:
    def __init__(
        self,
        *,
        credentials: Mapping[str, Credentials] | None = None,
        insecure: Iterable[str] = (),
        options: TransportOptions | None = None,
        docker_config: bool = True,
    ) -> None:
        self._credentials = {normalise_registry(k): v for k, v in (credentials or {}).items()}
        self._insecure = {h.lower() for h in insecure} | insecure_from_env()
        self._options = options or TransportOptions()
        self._docker_config = docker_config
        self._clients: dict[str, RegistryClient] = {}

    def __repr__(self) -> str:
        return f"RegistryPool(hosts={sorted(self._clients)!r})"

    def credentials_for(self, host: str) -> Credentials | None:
        host = normalise_registry(host)
        if host in self._credentials:
            return self._credentials[host]
        return credentials_from_docker_config(host) if self._docker_config else None

    def client(self, host: str) -> RegistryClient:
        host = normalise_registry(host)
        client = self._clients.get(host)
        if client is None:
            client = RegistryClient(
                host,
                credentials=self.credentials_for(host),
                insecure=host_matches(host, self._insecure),
                options=self._options,
            )
            self._clients[host] = client
        return client

    @property
    def clients(self) -> list[RegistryClient]:
        return list(self._clients.values())

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
