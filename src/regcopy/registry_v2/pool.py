"""One :class:`RegistryClient` per registry host, shared by everything in a run.

Sharing the client shares its connection pool and its token cache, so a
thousand jobs against one registry cost one ``/v2/`` ping and one token per
scope set, not one per job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import anyio

from regcopy.reference import normalise_registry
from regcopy.registry_v2.client import RegistryClient
from regcopy.registry_v2.credentials import Credentials, credentials_from_docker_config
from regcopy.registry_v2.retry import RetryPolicy
from regcopy.registry_v2.transport import TransportOptions, host_matches, insecure_from_env


def _normalise_key(key: str) -> str:
    host, sep, path = key.strip().strip("/").partition("/")
    return normalise_registry(host) + (sep + path if path else "")


class RegistryPool:
    """Clients by registry host, sharing one API request budget and one retry policy.

    Credentials may be keyed by ``host`` or by ``host/namespace`` (the longest
    matching key wins, as image-syncer's auth file does); repositories that
    resolve to different credentials on one host get separate clients.
    """

    def __init__(
        self,
        *,
        credentials: Mapping[str, Credentials] | None = None,
        insecure: Iterable[str] = (),
        options: TransportOptions | None = None,
        docker_config: bool = True,
        retry: RetryPolicy | None = None,
        api_concurrency: int | None = None,
    ) -> None:
        self._credentials = {_normalise_key(k): v for k, v in (credentials or {}).items()}
        self._insecure = {h.lower() for h in insecure} | insecure_from_env()
        self._options = options or TransportOptions()
        self._docker_config = docker_config
        self._retry = retry
        self._api_limiter = anyio.CapacityLimiter(api_concurrency) if api_concurrency else None
        self._clients: dict[str, RegistryClient] = {}

    def __repr__(self) -> str:
        return f"RegistryPool(hosts={sorted(self._clients)!r})"

    def _credential_key(self, host: str, repository: str | None) -> str | None:
        """The longest configured key (``host`` or ``host/namespace``) that covers ``host/repository``."""
        target = f"{host}/{repository}" if repository else host
        matches = [k for k in self._credentials if target == k or target.startswith(k + "/")]
        return max(matches, key=len) if matches else None

    def credentials_for(self, host: str, repository: str | None = None) -> Credentials | None:
        key = self._credential_key(normalise_registry(host), repository)
        if key is not None:
            return self._credentials[key]
        return credentials_from_docker_config(host) if self._docker_config else None

    def set_credentials(self, host: str, credentials: Credentials) -> None:
        """Use ``credentials`` for ``host`` from now on, also in a client that already exists."""
        key = _normalise_key(host)
        self._credentials[key] = credentials
        if key in self._clients:
            self._clients[key].auth.set_credentials(credentials)

    def client(self, host: str, repository: str | None = None) -> RegistryClient:
        host = normalise_registry(host)
        key = self._credential_key(host, repository) or host
        client = self._clients.get(key)
        if client is None:
            client = RegistryClient(
                host,
                credentials=self.credentials_for(host, repository),
                insecure=host_matches(host, self._insecure),
                options=self._options,
                retry=self._retry,
                api_limiter=self._api_limiter,
            )
            self._clients[key] = client
        return client

    @property
    def clients(self) -> list[RegistryClient]:
        return list(self._clients.values())

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
