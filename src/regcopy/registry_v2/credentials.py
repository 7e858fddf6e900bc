"""Registry credentials: where they come from, and how they stay out of logs.

Lookup order for a registry host: credentials given explicitly (option or
environment, resolved by the caller), then docker's ``config.json``
(``credHelpers`` for the host, ``auths`` entries, then the ``credsStore``
helper). Anonymous access is the fallback.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regcopy.errors import AuthError, RegcopyError
from regcopy.reference import DOCKER_HUB, normalise_registry


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and secret. ``repr`` and ``str`` never show the secret."""

    username: str
    password: str = field(repr=False)
    # An identity token (docker's ``identitytoken``) is an OAuth2 refresh token.
    identity_token: bool = False

    @classmethod
    def parse(cls, text: str, *, source: str = "credentials") -> Credentials:
        """``USER:PASSWORD``; the message on failure names the source, never the value."""
        username, sep, password = text.partition(":")
        if not sep or not username:
            raise RegcopyError(f"{source} must be USER:PASSWORD")
        return cls(username, password)

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def __str__(self) -> str:
        return f"Credentials(username={self.username!r}, password=***)"


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def _host_key(key: str) -> str:
    """``https://index.docker.io/v1/`` and ``host:port/path`` keys both reduce to the host."""
    key = key.strip()
    if "://" in key:
        key = key.split("://", 1)[1]
    host = key.split("/", 1)[0]
    return normalise_registry(host)


def _from_auth_entry(entry: Any) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken")
    auth = entry.get("auth")
    username, password = entry.get("username"), entry.get("password")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=False).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
    if isinstance(token, str) and token:
        return Credentials(username if isinstance(username, str) else "", token, identity_token=True)
    if isinstance(username, str) and username and isinstance(password, str):
        return Credentials(username, password)
    return None


def run_credential_helper(helper: str, host: str) -> Credentials | None:
    """Ask ``docker-credential-<helper> get`` for ``host``; ``None`` when it has nothing."""
    program = f"docker-credential-{helper}"
    lookups = [host] if host != DOCKER_HUB else ["https://index.docker.io/v1/", host]
    for server in lookups:
        try:
            done = subprocess.run([program, "get"], input=server.encode(), capture_output=True, timeout=30, check=False)
        except FileNotFoundError:
            raise AuthError(
                f"docker config names credential helper {helper!r} but {program} is not on PATH",
                hint="install the helper or remove it from ~/.docker/config.json",
            ) from None
        except subprocess.TimeoutExpired:
            raise AuthError(f"credential helper {program} did not answer within 30s") from None
        if done.returncode != 0:
            continue  # "credentials not found in native keychain" and friends
        try:
            answer = json.loads(done.stdout)
        except ValueError:
            raise AuthError(f"credential helper {program} printed something that is not JSON") from None
        username, secret = answer.get("Username", ""), answer.get("Secret", "")
        if secret:
            return Credentials(username, secret, identity_token=username == "<token>")
    return None


def load_docker_config(path: Path | None = None) -> dict[str, Any]:
    path = path or docker_config_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise RegcopyError(f"cannot read docker config {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RegcopyError(f"docker config {path} is not valid JSON: {exc}") from None
    return data if isinstance(data, dict) else {}


def credentials_from_docker_config(host: str, config: dict[str, Any] | None = None) -> Credentials | None:
    """Resolve credentials for ``host`` the way ``docker pull`` would."""
    config = load_docker_config() if config is None else config
    host = normalise_registry(host)
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for key, helper in helpers.items():
            if _host_key(key) == host and isinstance(helper, str):
                return run_credential_helper(helper, host)
    auths = config.get("auths")
    if isinstance(auths, dict):
        for key, entry in auths.items():
            if _host_key(key) == host:
                found = _from_auth_entry(entry)
                if found:
                    return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        return run_credential_helper(store, host)
    return None
