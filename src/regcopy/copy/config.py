"""The ``regcopy sync`` configuration file: models, loading, and errors that point at a line.

YAML (or JSON, which is YAML) is validated by pydantic; a validation error is
traced back through the YAML node tree so the message names the file, the line
and the field, e.g. ``sync.yaml:12: jobs[3].latest: Input should be a valid integer``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from regcopy.errors import RegcopyError
from regcopy.registry_v2.credentials import Credentials


class ConfigError(RegcopyError):
    """A configuration file that cannot be used; the message names file, line and field."""

    hint = "fix the file and run again"


class RegistryConfig(BaseModel):
    """Per-registry settings. Secrets are referenced by environment variable names, never required inline."""

    model_config = ConfigDict(extra="forbid")

    insecure: bool = False
    credentials_env: str | None = Field(default=None, description="variable holding USER:PASSWORD")
    username: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    password: str | None = Field(default=None, repr=False, description="discouraged: prefer password_env")

    def credentials(self, host: str) -> Credentials | None:
        if self.credentials_env:
            value = os.environ.get(self.credentials_env)
            if not value:
                raise ConfigError(f"registry {host}: environment variable {self.credentials_env} is not set")
            return Credentials.parse(value, source=self.credentials_env)
        username = os.environ.get(self.username_env, "") if self.username_env else self.username
        password = self.password
        if self.password_env:
            password = os.environ.get(self.password_env)
            if password is None:
                raise ConfigError(f"registry {host}: environment variable {self.password_env} is not set")
        if username and password is not None:
            return Credentials(username, password)
        return None


class JobConfig(BaseModel):
    """One line of work: an image, a repository (all or some tags), or a registry/namespace prefix."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="host/repo:tag (image), host/repo (repository), host/ns/ or host (prefix)")
    destination: str
    tags: list[str] | None = Field(default=None, description="explicit tags")
    include: list[str] = Field(default_factory=list, description="regular expressions a tag must match")
    exclude: list[str] = Field(default_factory=list, description="regular expressions a tag must not match")
    latest: int | None = Field(default=None, ge=0, description="the newest N tags by version order")
    digests: list[str] = Field(default_factory=list, description="copy these manifests by digest")

    @field_validator("include", "exclude")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns

    @model_validator(mode="after")
    def _prefix_rules(self) -> JobConfig:
        if self.source.endswith("/") != self.destination.endswith("/") and is_prefix(self.source):
            raise ValueError("a prefix source (ending in '/' or a bare host) needs a destination ending in '/'")
        return self


class SyncConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registries: dict[str, RegistryConfig] = Field(default_factory=dict)
    jobs: list[JobConfig] = Field(min_length=1)


def is_prefix(source: str) -> bool:
    """``host/`` ``host/ns/`` or a bare ``host[:port]``: a whole registry or namespace via ``_catalog``."""
    return source.endswith("/") or ("/" not in source and ("." in source or ":" in source or source == "localhost"))


def _line_of(node: Any, loc: tuple[int | str, ...]) -> int | None:
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            match = node.value[key]
        else:
            match = None
        if match is None:
            break
        node, line = match, match.start_mark.line + 1
    return line


def _loc_text(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_yaml(path: Path) -> tuple[Any, Any]:
    """The parsed document and its node tree (for line numbers); errors name the file and line."""
    import yaml

    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    return data, node


def validation_error(path: Path, node: Any, error: ValidationError) -> ConfigError:
    first = error.errors()[0]
    loc = tuple(first["loc"])
    line = _line_of(node, loc)
    where = f"{path}:{line}" if line else str(path)
    field = _loc_text(loc) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    extra = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return ConfigError(f"{where}: {field}: {message}{extra}")


def load_sync_config(path: Path) -> SyncConfig:
    data, node = load_yaml(path)
    if data is None:
        raise ConfigError(f"{path}: the file is empty; it needs a 'jobs' list")
    try:
        return SyncConfig.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, node, exc) from None
