"""Tencent Cloud API access through the official SDK (``tencentcloud-sdk-python-tcr`` + ``-common``).

The SDK signs every request (TC3-HMAC-SHA256) and speaks the wire protocol;
this module adds what a long migration needs around it: client-side rate limits
matched to the documented quotas (100 calls/s for ``Describe*``, 20/s for
``Create*``), retries with backoff on ``RequestLimitExceeded*`` and network
errors, and one typed error (:class:`~regcopy.errors.TencentAPIError`) carrying
action, code and RequestId.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from regcopy.errors import RegcopyError, TencentAPIError
from regcopy.registry_v2.retry import RetryPolicy
from regcopy.registry_v2.transport import is_loopback

log = logging.getLogger(__name__)

API_ENDPOINT_ENV = "REGCOPY_TENCENT_API_ENDPOINT"
DESCRIBE_RATE = 100.0
CREATE_RATE = 20.0
_RETRYABLE_CODES = ("RequestLimitExceeded", "ServerNetworkError", "ClientNetworkError", "InternalError.ErrorTimeout")
_AUTH_HINT = "check the SecretId and SecretKey (TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY)"


@dataclass(frozen=True)
class APICredentials:
    """A SecretId/SecretKey pair; ``repr`` never shows the key."""

    secret_id: str
    secret_key: str = field(repr=False)


class RateLimit:
    """Spaces calls evenly so that at most ``rate`` start per second."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = anyio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await anyio.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


def _split_endpoint(endpoint: str) -> tuple[str, str]:
    """``http://127.0.0.1:9000`` -> (``http``, ``127.0.0.1:9000``); a bare host means HTTPS."""
    if "://" in endpoint:
        scheme, _, rest = endpoint.partition("://")
        return scheme.lower(), rest.strip("/")
    return "https", endpoint.strip("/")


class TencentAPI:
    """The TCR API (``tcr`` service, version 2019-09-24) for one account and region."""

    def __init__(
        self,
        credentials: APICredentials,
        region: str,
        *,
        endpoint: str | None = None,
        retry: RetryPolicy | None = None,
        describe_rate: float = DESCRIBE_RATE,
        create_rate: float = CREATE_RATE,
    ) -> None:
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.tcr.v20190924.tcr_client_async import TcrClient

        logging.getLogger("tencentcloud_sdk_common").setLevel(logging.WARNING)  # its debug log prints headers
        self.region = region
        self.retry = retry or RetryPolicy()
        endpoint = endpoint or os.environ.get(API_ENDPOINT_ENV) or None
        http_profile = HttpProfile(keepAlive=True, reqTimeout=60)
        loopback = False
        if endpoint:
            scheme, host = _split_endpoint(endpoint)
            http_profile = HttpProfile(protocol=scheme, endpoint=host, keepAlive=True, reqTimeout=60)
            loopback = is_loopback(host)
        profile = ClientProfile(httpProfile=http_profile, disable_region_breaker=True)
        self._client = TcrClient(Credential(credentials.secret_id, credentials.secret_key), region, profile)
        if loopback:
            # The SDK's NO_PROXY handling fails for host:port; a loopback endpoint never needs a proxy.
            self._client.http_client = httpx.AsyncClient(timeout=60, trust_env=False)
        self._limits = {"Describe": RateLimit(describe_rate), "Create": RateLimit(create_rate)}
        self.calls = 0

    def __repr__(self) -> str:
        return f"TencentAPI(region={self.region!r})"

    async def aclose(self) -> None:
        await self._client.close()

    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call ``action`` and return its ``Response`` object; retry throttling and network errors."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        limit = self._limits.get("Create" if action.startswith(("Create", "Delete", "Modify")) else "Describe")
        for attempt in range(self.retry.attempts):
            if limit is not None:
                await limit.wait()
            self.calls += 1
            try:
                answer = await self._client.call_and_deserialize(action, params)
            except TencentCloudSDKException as exc:
                code = str(exc.code or "UnknownError")
                message = str(exc.message or "")
                if isinstance(exc.message, bytes):
                    message = exc.message.decode(errors="replace")[:200]
                if code.startswith(_RETRYABLE_CODES) and attempt + 1 < self.retry.attempts:
                    log.info("%s: %s; retrying", action, code)
                    await anyio.sleep(self.retry.delay(attempt))
                    continue
                hint = _AUTH_HINT if code.startswith("AuthFailure") else ""
                raise TencentAPIError(action, code, message, exc.requestId, hint=hint) from None
            except httpx.TransportError as exc:
                if attempt + 1 < self.retry.attempts:
                    await anyio.sleep(self.retry.delay(attempt))
                    continue
                raise RegcopyError(
                    f"Tencent Cloud API unreachable ({action}): {type(exc).__name__}",
                    hint="check the network, or --api-endpoint",
                ) from None
            response = answer.get("Response") if isinstance(answer, dict) else None
            if not isinstance(response, dict):
                raise TencentAPIError(action, "MalformedResponse", "the answer has no Response object")
            return response
        raise AssertionError("unreachable")
