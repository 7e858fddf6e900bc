"""Turn a registry's error response (HTTP status + OCI error body) into a typed exception."""

from __future__ import annotations

import json

import httpx

from regcopy.errors import AuthError, DigestMismatch, NotFound, RegistryError

_NOT_FOUND_CODES = frozenset({"BLOB_UNKNOWN", "MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UPLOAD_UNKNOWN", "NOT_FOUND"})


def oci_errors(body: bytes) -> list[tuple[str, str]]:
    """``errors[].code`` and ``message`` from an OCI error body; empty when there is none."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(parsed, dict) or not isinstance(parsed.get("errors"), list):
        return []
    found = []
    for item in parsed["errors"]:
        if isinstance(item, dict):
            code, message = item.get("code"), item.get("message")
            found.append((str(code) if code else "", str(message) if message else ""))
    return found


def error_for_response(response: httpx.Response, body: bytes, what: str) -> RegistryError:
    """Build the exception for a failed ``what`` (e.g. ``GET manifest host/repo:tag``)."""
    status = response.status_code
    errors = oci_errors(body)
    code = errors[0][0] if errors else None
    detail = "; ".join(f"{c}: {m}" if m else c for c, m in errors if c or m)
    text = f"{what}: HTTP {status}" + (f" ({detail})" if detail else "")
    if status in (401, 403) or code in ("UNAUTHORIZED", "DENIED"):
        return AuthError(text, status=status, code=code)
    if code == "DIGEST_INVALID":
        return DigestMismatch(text, status=status, code=code)
    if status == 404 or code in _NOT_FOUND_CODES:
        return NotFound(text, status=status, code=code)
    return RegistryError(text, status=status, code=code)
