"""What is retried, how long to wait, and the per-host pause after a 429.

Retried: connection errors, timeouts, HTTP 5xx and 429, for requests whose
body can be sent again. Waits grow exponentially with full jitter up to a cap;
a ``Retry-After`` header is honoured exactly as given (never clamped), and a
429 pauses every request to that host, not only the one that was throttled.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

from regcopy.errors import HostNotFound, RegistryError, RegistryUnreachable

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 0)."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)


NO_RETRY = RetryPolicy(attempts=1)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, HostNotFound):
        return False
    if isinstance(error, RegistryUnreachable):
        return True
    return isinstance(error, RegistryError) and error.status in RETRYABLE_STATUS
