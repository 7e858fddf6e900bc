"""A ``kubernetes.io/dockerconfigjson`` Secret for pulling from the new registry."""

from __future__ import annotations

import base64
import json

from regcopy.errors import RegcopyError
from regcopy.reference import normalise_registry

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-.")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def secret_manifest(registry: str, username: str, password: str, *, name: str, namespace: str | None) -> str:
    """The Secret as YAML. It carries the password (base64 is an encoding, not protection): handle as a secret."""
    if not name or set(name) - _NAME_CHARS or name[0] in "-." or name[-1] in "-." or len(name) > 253:
        raise RegcopyError(f"invalid secret name {name!r}: lowercase letters, digits, '-' and '.' (Kubernetes rules)")
    if not registry or "/" in registry or "://" in registry:
        raise RegcopyError(f"invalid --registry {registry!r}: give HOST[:PORT], e.g. myinstance.tencentcloudcr.com")
    if not username or not password:
        raise RegcopyError("a pull secret needs both a username and a password")
    host = normalise_registry(registry)
    auth = _b64(f"{username}:{password}".encode())
    config = json.dumps({"auths": {host: {"username": username, "password": password, "auth": auth}}})
    metadata = [f"  name: {name}"] + ([f"  namespace: {namespace}"] if namespace else [])
    return "\n".join(
        [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            *metadata,
            "type: kubernetes.io/dockerconfigjson",
            "data:",
            f"  .dockerconfigjson: {_b64(config.encode())}",
            "",
        ]
    )
