"""Registry authentication: the ``/v2/`` challenge, Basic, and the Bearer token flow.

A registry announces its scheme once, on ``GET /v2/``. For Bearer registries a
token is fetched per *scope set* (``repository:a/b:pull`` ...) and cached until
shortly before it expires; a 401 on a request that carried a token drops that
token so the next attempt fetches a fresh one. Cross-repository mounts need a
token that holds ``pull`` on the source repository and ``pull,push`` on the
target, so scope sets, not single scopes, are the cache key.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import anyio
import httpx

from regcopy.errors import AuthError, RegistryUnreachable
from regcopy.registry_v2.credentials import Credentials
from regcopy.registry_v2.headers import Challenge, parse_www_authenticate
from regcopy.registry_v2.retry import RETRYABLE_STATUS, RetryPolicy

# Tokens are renewed this long before their announced expiry, so a request
# never leaves with a token that dies in flight.
_EXPIRY_MARGIN = 30.0
# Distribution's default when the token service does not say (``expires_in``).
_DEFAULT_TOKEN_LIFETIME = 60.0

Scopes = tuple[str, ...]


def repository_scope(repository: str, *actions: str) -> str:
    return f"repository:{repository}:{','.join(actions)}"


def normalise_scopes(scopes: Iterable[str]) -> Scopes:
    return tuple(sorted(set(scopes)))


@dataclass(slots=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float

    def fresh(self) -> bool:
        return time.monotonic() < self.expires_at


class Authenticator:
    """Produces the ``Authorization`` header for a request to one registry host."""

    def __init__(self, host: str, credentials: Credentials | None, retry: RetryPolicy | None = None) -> None:
        self.host = host
        self._credentials = credentials
        self._retry = retry or RetryPolicy()
        self._challenge: Challenge | None = None
        self._tokens: dict[Scopes, _Token] = {}
        self._locks: dict[Scopes, anyio.Lock] = {}
        self.token_fetches = 0

    def __repr__(self) -> str:
        user = self._credentials.username if self._credentials else None
        scheme = self._challenge.scheme if self._challenge else None
        return f"Authenticator(host={self.host!r}, user={user!r}, scheme={scheme!r})"

    @property
    def scheme(self) -> str | None:
        return self._challenge.scheme if self._challenge else None

    def learn(self, response: httpx.Response) -> None:
        """Take the challenge from a 401; prefer Bearer over Basic when both are offered."""
        challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate", ""))
        by_scheme = {c.scheme: c for c in challenges}
        self._challenge = by_scheme.get("bearer") or by_scheme.get("basic") or self._challenge

    async def header(self, http: httpx.AsyncClient, scopes: Scopes) -> str | None:
        if self._challenge is None:
            return None
        if self._challenge.scheme == "basic":
            return self._credentials.basic_header() if self._credentials else None
        if self._challenge.scheme != "bearer":
            return None
        token = self._tokens.get(scopes)
        if token and token.fresh():
            return f"Bearer {token.value}"
        lock = self._locks.setdefault(scopes, anyio.Lock())
        async with lock:
            token = self._tokens.get(scopes)
            if not (token and token.fresh()):
                token = await self._fetch_token(http, scopes)
                self._tokens[scopes] = token
        return f"Bearer {token.value}"

    def set_credentials(self, credentials: Credentials | None) -> None:
        """Swap credentials (a renewed temporary token); cached tokens of the old ones are dropped."""
        self._credentials = credentials
        self._tokens.clear()

    def invalidate(self, scopes: Scopes) -> None:
        self._tokens.pop(scopes, None)

    async def _fetch_token(self, http: httpx.AsyncClient, scopes: Scopes) -> _Token:
        """Ask the token service, retrying its outages (5xx, 429, network) like any other request."""
        for attempt in range(self._retry.attempts):
            try:
                response = await self._request_token(http, scopes)
            except httpx.TransportError as exc:
                if attempt + 1 < self._retry.attempts:
                    await anyio.sleep(self._retry.delay(attempt))
                    continue
                realm = self._challenge.realm if self._challenge else ""
                raise RegistryUnreachable(
                    f"token service of {self.host} at {httpx.URL(realm or '').host} unreachable: {type(exc).__name__}"
                ) from None
            if response.status_code in RETRYABLE_STATUS and attempt + 1 < self._retry.attempts:
                await anyio.sleep(self._retry.delay(attempt))
                continue
            return self._token_from(response)
        raise AssertionError("unreachable")

    async def _request_token(self, http: httpx.AsyncClient, scopes: Scopes) -> httpx.Response:
        assert self._challenge is not None
        realm = self._challenge.realm
        if not realm:
            raise AuthError(f"registry {self.host} asked for a Bearer token but named no realm")
        service = self._challenge.params.get("service")
        self.token_fetches += 1
        creds = self._credentials
        if creds and creds.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.password,
                "client_id": "regcopy",
                "scope": " ".join(scopes),
            }
            if service:
                form["service"] = service
            return await http.post(realm, data=form)
        params: list[tuple[str, str | int | float | bool | None]] = [("scope", s) for s in scopes]
        if service:
            params.insert(0, ("service", service))
        if creds:
            params.append(("account", creds.username))
        headers = {"Authorization": creds.basic_header()} if creds else {}
        return await http.get(realm, params=params, headers=headers)

    def _token_from(self, response: httpx.Response) -> _Token:
        creds = self._credentials
        if response.status_code in (401, 403):
            who = f"user {creds.username!r}" if creds else "anonymous access"
            raise AuthError(
                f"{self.host}: token service refused {who} ({response.status_code})",
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise AuthError(f"{self.host}: token service answered {response.status_code}", status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise AuthError(f"{self.host}: token service answered something that is not JSON") from None
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise AuthError(f"{self.host}: token service answered without a token")
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else _DEFAULT_TOKEN_LIFETIME
        margin = min(_EXPIRY_MARGIN, seconds / 2)
        return _Token(value, time.monotonic() + seconds - margin)
