"""The typed errors regcopy raises.

Every error a user can cause or meet carries enough to act on: what failed,
where, and (through :attr:`RegcopyError.hint`) what to do about it. The CLI
prints ``str(error)`` as one line, so messages never contain newlines and
never contain credentials.
"""

from __future__ import annotations

import sys


class RegcopyError(Exception):
    """Base class of every error regcopy raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        message = " ".join(str(self.args[0]).split()) if self.args else ""
        return f"{message} ({self.hint})" if self.hint else message


class InvalidReference(RegcopyError):
    """An image reference that cannot be parsed; the message names the bad part."""


class RegistryError(RegcopyError):
    """A registry answered with an error (an HTTP status and maybe an OCI error body)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code


class AuthError(RegistryError):
    """Authentication or authorization failed (401/403, or the token service refused)."""

    hint = "check the credentials for this registry"


class NotFound(RegistryError):
    """A repository, manifest, tag or blob does not exist."""


class RegistryUnreachable(RegistryError):
    """The registry could not be reached at all (DNS, TCP, TLS, timeout)."""

    hint = "check the host name, the network, and --insecure-registry for plain-HTTP registries"


class HostNotFound(RegistryUnreachable):
    """The registry's host name does not exist (DNS says so): retrying cannot help."""

    hint = "check the host name"


class DigestMismatch(RegistryError):
    """Content did not hash to the digest it was fetched or uploaded under."""


class ManifestTooLarge(RegistryError):
    """A manifest exceeded the size cap; refusing protects memory and mirrors registries' own limits."""


class UnsupportedManifest(RegistryError):
    """A manifest whose media type regcopy cannot copy faithfully (schema 1, unknown types)."""


if sys.version_info >= (3, 11):
    ExceptionGroups = BaseExceptionGroup  # noqa: F821 (a builtin from Python 3.11)
else:  # pragma: no cover - Python 3.10 gets exception groups from anyio's backport dependency
    from exceptiongroup import BaseExceptionGroup as ExceptionGroups


def first_error(error: BaseException) -> BaseException:
    """The error to report from a task group's exception group: our own typed errors first.

    Concurrent work (the blobs of an image, the children of an index) fails as a
    group; the user needs the one line that explains it, not the group.
    """
    while isinstance(error, ExceptionGroups):
        leaves = list(error.exceptions)
        error = next((e for e in leaves if isinstance(e, (RegcopyError, ExceptionGroups))), leaves[0])
    return error


class TencentAPIError(RegcopyError):
    """A Tencent Cloud API call failed; carries the action, the error code and the RequestId for support."""

    def __init__(self, action: str, code: str, message: str, request_id: str | None = None, *, hint: str = "") -> None:
        text = f"Tencent Cloud API {action} failed: {code}: {message}"
        if request_id:
            text += f" (RequestId {request_id})"
        super().__init__(text, hint=hint)
        self.action, self.code, self.request_id = action, code, request_id
