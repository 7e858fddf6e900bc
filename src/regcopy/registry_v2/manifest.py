"""Manifests as exact bytes plus the few fields copying needs.

The bytes are the truth: a manifest is pushed exactly as it was received, so
its digest never changes. The parsed view exists only to find what a manifest
references (children of an index, config and layers of an image).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from regcopy.errors import UnsupportedManifest
from regcopy.registry_v2 import mediatypes as mt

MAX_MANIFEST_BYTES = 4 * 1024 * 1024


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``os/arch[/variant]``, as docker's ``--platform`` takes it."""
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r}: expected os/arch[/variant], e.g. linux/arm64/v8")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, other: Platform | None) -> bool:
        """A selector without a variant matches every variant of its os/arch."""
        if other is None:
            return False
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        return self.variant is None or self.variant == other.variant

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    urls: tuple[str, ...] = ()

    @property
    def is_manifest(self) -> bool:
        return self.media_type in mt.INDEX_TYPES or self.media_type in mt.IMAGE_TYPES

    @property
    def is_foreign(self) -> bool:
        return mt.is_foreign_layer(self.media_type)


@dataclass(frozen=True, slots=True)
class Manifest:
    """A manifest as received: ``data`` is never re-serialised."""

    data: bytes
    media_type: str
    digest: str
    children: tuple[Descriptor, ...] = field(default=())
    blobs: tuple[Descriptor, ...] = field(default=())
    subject: Descriptor | None = None

    @property
    def is_index(self) -> bool:
        return self.media_type in mt.INDEX_TYPES


def _descriptor(raw: Any, where: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise UnsupportedManifest(f"malformed manifest: {where} is not an object")
    media_type, digest, size = raw.get("mediaType"), raw.get("digest"), raw.get("size")
    if not isinstance(digest, str) or not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise UnsupportedManifest(f"malformed manifest: {where} lacks a valid digest and size")
    platform = None
    raw_platform = raw.get("platform")
    if isinstance(raw_platform, dict):
        os_, arch = raw_platform.get("os"), raw_platform.get("architecture")
        if isinstance(os_, str) and isinstance(arch, str):
            variant = raw_platform.get("variant")
            platform = Platform(os_, arch, variant if isinstance(variant, str) and variant else None)
    urls = raw.get("urls")
    return Descriptor(
        media_type=media_type if isinstance(media_type, str) else "",
        digest=digest,
        size=size,
        platform=platform,
        urls=tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else (),
    )


def _descriptors(body: dict[str, Any], key: str) -> tuple[Descriptor, ...]:
    raw = body.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise UnsupportedManifest(f"malformed manifest: {key!r} is not a list")
    return tuple(_descriptor(item, f"{key}[{i}]") for i, item in enumerate(raw))


def detect_media_type(data: bytes, content_type: str | None) -> str:
    """The registry's Content-Type wins; fall back to the body's own ``mediaType`` and shape."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared and declared not in ("application/json", "application/octet-stream", "text/plain"):
        return declared
    try:
        body = json.loads(data)
    except ValueError:
        return declared
    if not isinstance(body, dict):
        return declared
    if isinstance(body.get("mediaType"), str):
        return str(body["mediaType"])
    if body.get("schemaVersion") == 1:
        return mt.DOCKER_SCHEMA1_SIGNED if "signatures" in body else mt.DOCKER_SCHEMA1
    if "manifests" in body:
        return mt.OCI_INDEX
    if "config" in body and "layers" in body:
        return mt.OCI_MANIFEST
    return declared


def parse_manifest(data: bytes, media_type: str, digest: str | None = None) -> Manifest:
    """Parse ``data`` for its references; raise :class:`UnsupportedManifest` for what cannot be copied."""
    if media_type in mt.SCHEMA1_TYPES:
        raise UnsupportedManifest(
            "manifest is Docker schema 1, which is deprecated and cannot be copied byte-exactly",
            hint="rebuild and push the image with a current docker or buildkit",
        )
    if media_type not in mt.INDEX_TYPES and media_type not in mt.IMAGE_TYPES:
        raise UnsupportedManifest(f"unsupported manifest media type {media_type or '(none)'!r}")
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise UnsupportedManifest(f"manifest is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise UnsupportedManifest("malformed manifest: top level is not an object")
    subject = _descriptor(body["subject"], "subject") if isinstance(body.get("subject"), dict) else None
    digest = digest or sha256_digest(data)
    if media_type in mt.INDEX_TYPES:
        return Manifest(data, media_type, digest, children=_descriptors(body, "manifests"), subject=subject)
    if not isinstance(body.get("config"), dict):
        raise UnsupportedManifest("malformed manifest: image manifest has no config descriptor")
    blobs = (_descriptor(body["config"], "config"), *_descriptors(body, "layers"))
    return Manifest(data, media_type, digest, blobs=blobs, subject=subject)


ATTESTATION_TYPE_KEY = "vnd.docker.reference.type"
ATTESTATION_SUBJECT_KEY = "vnd.docker.reference.digest"


def _attestation_of(entry: dict[str, Any]) -> str | None:
    """The digest of the image a BuildKit attestation entry describes; ``None`` for other entries."""
    annotations = entry.get("annotations")
    if isinstance(annotations, dict) and annotations.get(ATTESTATION_TYPE_KEY) == "attestation-manifest":
        subject = annotations.get(ATTESTATION_SUBJECT_KEY)
        return subject if isinstance(subject, str) else None
    return None


def filter_index(manifest: Manifest, platforms: list[Platform]) -> Manifest:
    """A new index holding only the children whose platform matches; the one case bytes change.

    Keys and their order are kept; only the ``manifests`` list shrinks. BuildKit's attestation
    manifests (platform ``unknown/unknown``, pointing at an image through an annotation) stay
    with the image they describe: provenance and SBOMs of a kept platform are not dropped.
    An index of indexes cannot be filtered without rewriting the inner indexes too, so it is
    refused rather than emptied.
    """
    body = json.loads(manifest.data)
    entries = body.get("manifests", [])  # the raw form of manifest.children, in the same order
    matched = {i for i, child in enumerate(manifest.children) if any(p.matches(child.platform) for p in platforms)}
    if not matched and any(c.media_type in mt.INDEX_TYPES and c.platform is None for c in manifest.children):
        raise UnsupportedManifest("an index of indexes: platforms cannot be selected inside it")
    kept_digests = {manifest.children[i].digest for i in matched}
    body["manifests"] = [
        entry for i, entry in enumerate(entries) if i in matched or _attestation_of(entry) in kept_digests
    ]
    data = json.dumps(body, separators=(",", ":")).encode()
    return parse_manifest(data, manifest.media_type)
