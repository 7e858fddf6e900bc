"""image-syncer's ``--images`` and ``--auth`` files, read into a regular sync configuration.

Users of image-syncer (and of Tencent's image-transfer, which reads the same
format) switch without rewriting their files:

- images: ``SOURCE: DESTINATION`` or ``SOURCE: [DEST, DEST]``; a source is
  ``repo`` (all tags), ``repo:tag``, ``repo:t1,t2``, ``repo:/regex/`` or
  ``repo@sha256:...``; an empty destination means ``DEFAULT_REGISTRY/DEFAULT_NAMESPACE/<name>``;
- auth: ``registry`` or ``registry/namespace`` keys (the longest match wins) with
  ``username``, ``password`` and ``insecure``; ``$VAR`` and ``${VAR}`` values
  are taken from the environment.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from regcopy.copy.config import ConfigError, JobConfig, RegistryConfig, SyncConfig, load_yaml, validation_error
from regcopy.reference import parse_reference

_ENV = re.compile(r"^\$\{(\w+)\}$|^\$(\w+)$")


def expand_env(value: Any, *, where: str) -> Any:
    if not isinstance(value, str):
        return value
    match = _ENV.match(value.strip())
    if not match:
        return value
    name = match.group(1) or match.group(2)
    if name not in os.environ:
        raise ConfigError(f"{where}: environment variable {name} is not set")
    return os.environ[name]


def _source_job(source: str, destination: str) -> JobConfig:
    """One rule: decode image-syncer's tag syntax on the source side."""
    if source.endswith("/") and ":/" in source:
        repository, _, pattern = source.partition(":/")
        return JobConfig(source=repository, destination=destination, include=[pattern[:-1]])
    if "@" not in source:
        last = source.rsplit("/", 1)[-1]
        if ":" in last and "," in last:
            repository = source[: source.rfind(":")]
            tags = [t.strip() for t in source[source.rfind(":") + 1 :].split(",") if t.strip()]
            return JobConfig(source=repository, destination=destination, tags=tags)
    return JobConfig(source=source, destination=destination)


def _default_destination(source: str, registry: str | None, namespace: str | None) -> str:
    if not registry or not namespace:
        raise ConfigError(
            f"rule {source!r} has an empty destination: set --registry and --namespace"
            " (or DEFAULT_REGISTRY and DEFAULT_NAMESPACE)"
        )
    name = parse_reference(source.partition(":/")[0] if source.endswith("/") else source.split(",")[0])
    base = name.repository.rsplit("/", 1)[-1]
    return f"{registry}/{namespace}/{base}"


def load_images(path: Path, *, registry: str | None = None, namespace: str | None = None) -> list[JobConfig]:
    data, node = load_yaml(path)
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{path}: expected a mapping of source image to destination image(s)")
    registry = registry or os.environ.get("DEFAULT_REGISTRY")
    namespace = namespace or os.environ.get("DEFAULT_NAMESPACE")
    jobs: list[JobConfig] = []
    for source, targets in data.items():
        destinations = targets if isinstance(targets, list) else [targets]
        for destination in destinations:
            if destination is not None and not isinstance(destination, str):
                raise ConfigError(f"{path}: destination of {source!r} must be a string or a list of strings")
            dest = destination or _default_destination(str(source), registry, namespace)
            try:
                jobs.append(_source_job(str(source), dest))
            except ValidationError as exc:
                raise validation_error(path, node, exc) from None
    return jobs


def load_auth(path: Path) -> dict[str, RegistryConfig]:
    data, node = load_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of registry (or registry/namespace) to credentials")
    registries: dict[str, RegistryConfig] = {}
    for key, entry in data.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: entry {key!r} must be a mapping with username, password, insecure")
        where = f"{path}: {key}"
        try:
            registries[str(key)] = RegistryConfig(
                username=expand_env(entry.get("username"), where=where) or None,
                password=expand_env(entry.get("password"), where=where),
                insecure=bool(entry.get("insecure", False)),
            )
        except ValidationError as exc:
            raise validation_error(path, node, exc) from None
    return registries


def load_image_syncer(
    images: Path, auth: Path | None = None, *, registry: str | None = None, namespace: str | None = None
) -> SyncConfig:
    return SyncConfig(
        jobs=load_images(images, registry=registry, namespace=namespace), registries=load_auth(auth) if auth else {}
    )
