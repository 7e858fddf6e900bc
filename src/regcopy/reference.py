"""Image references, parsed and normalised the way docker does.

``host[:port]/path/.../repo[:tag][@algo:hex]``: the first path component is a
registry host only if it contains a ``.`` or a ``:`` or is ``localhost``;
otherwise the image lives on Docker Hub (``docker.io``), where single-component
names get the ``library/`` prefix. Parsing is pure so it can be tested without
a network, and every failure names the part of the input that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from regcopy.errors import InvalidReference

DOCKER_HUB = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]{{1,5}})?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Reference:
    """A normalised image reference.

    ``tag`` and ``digest`` may both be set (``repo:tag@sha256:...``); then the
    digest is what gets fetched and the tag is informational, as in docker.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        return parse_reference(text)

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def api_host(self) -> str:
        """The host the Distribution API lives on (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API_HOST if self.registry == DOCKER_HUB else self.registry

    @property
    def api_reference(self) -> str:
        """What goes after ``/manifests/``: the digest if pinned, else the tag (default ``latest``)."""
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str | None) -> Reference:
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str | None) -> Reference:
        return replace(self, digest=digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def validate_digest(digest: str) -> str:
    """Return ``digest`` if it is well formed; known algorithms must have the exact hex length."""
    if not _DIGEST.fullmatch(digest):
        raise InvalidReference(f"invalid digest {digest!r}: expected algorithm:hex, e.g. sha256:<64 hex>")
    algorithm, _, encoded = digest.partition(":")
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise InvalidReference(f"invalid digest {digest!r}: unsupported algorithm {algorithm!r}")
    if len(encoded) != expected or not re.fullmatch(r"[0-9a-f]+", encoded):
        raise InvalidReference(f"invalid digest {digest!r}: {algorithm} needs {expected} lowercase hex characters")
    return digest


def validate_repository(path: str, *, original: str | None = None) -> str:
    """Check a repository path (``ns/sub/repo``) against the distribution grammar."""
    shown = original if original is not None else path
    if not path:
        raise InvalidReference(f"invalid reference {shown!r}: empty repository name")
    if len(path) > _MAX_NAME_LENGTH:
        raise InvalidReference(
            f"invalid reference {shown!r}: repository name longer than {_MAX_NAME_LENGTH} characters"
        )
    for component in path.split("/"):
        if _PATH_COMPONENT.fullmatch(component):
            continue
        if component and _PATH_COMPONENT.fullmatch(component.lower()):
            raise InvalidReference(f"invalid reference {shown!r}: repository name must be lowercase ({component!r})")
        raise InvalidReference(
            f"invalid reference {shown!r}: bad repository path component {component!r}"
            " (allowed: lowercase letters, digits, and single '.', '_', '__' or '-' separators)"
        )
    return path


def normalise_registry(host: str) -> str:
    """Docker Hub has several spellings; everything else is kept as given, lowercased."""
    lowered = host.lower()
    return DOCKER_HUB if lowered in _HUB_ALIASES else lowered


def _looks_like_registry(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost" or component != component.lower()


def parse_reference(text: str) -> Reference:
    """Parse ``text`` like ``docker pull`` would, raising :class:`InvalidReference` naming the bad part."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidReference("invalid reference '': empty image reference")
    if text != text.strip() or any(ch.isspace() for ch in text):
        raise InvalidReference(f"invalid reference {text!r}: contains whitespace")
    if "://" in text:
        raise InvalidReference(f"invalid reference {text!r}: drop the URL scheme, write host[:port]/repository[:tag]")

    remainder, digest = text, None
    if "@" in remainder:
        remainder, _, digest = remainder.partition("@")
        validate_digest(digest)

    tag = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise InvalidReference(
                f"invalid reference {text!r}: bad tag {tag!r} (1-128 of letters, digits, '_', '.', '-';"
                " not starting with '.' or '-')"
            )

    first, sep, rest = remainder.partition("/")
    if sep and _looks_like_registry(first):
        if not _DOMAIN.fullmatch(first):
            raise InvalidReference(f"invalid reference {text!r}: bad registry host {first!r}")
        port = first.rpartition(":")[2] if ":" in first and not first.endswith("]") else ""
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise InvalidReference(f"invalid reference {text!r}: bad port in registry host {first!r}")
        registry, path = normalise_registry(first), rest
    else:
        registry, path = DOCKER_HUB, remainder

    validate_repository(path, original=text)
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return Reference(registry=registry, repository=path, tag=tag, digest=digest)
