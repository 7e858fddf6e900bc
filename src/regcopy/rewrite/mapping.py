"""What was migrated, and where to: the knowledge a rewrite may act on.

A reference is rewritten only when regcopy knows its image is at the
destination: a sync or migrate report lists it as copied or skipped, a map
file names it, or (``--verify``) the destination answers a HEAD for it. Prefix
rules (``--from HOST[/prefix] --to HOST[/prefix]``) say where references go,
never that they were migrated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from regcopy.copy.models import SyncReport
from regcopy.errors import InvalidReference, RegcopyError
from regcopy.reference import Reference, normalise_registry, parse_reference


class MappingError(RegcopyError):
    """A report, map file or prefix rule that cannot be used."""


@dataclass(frozen=True, slots=True)
class Prefix:
    """``host[/path]``: every repository at or below it."""

    registry: str
    path: str = ""

    @classmethod
    def parse(cls, text: str, flag: str) -> Prefix:
        host, _, path = text.strip().strip("/").partition("/")
        if not host or "://" in text or ":" in path or "@" in text:
            raise MappingError(f"invalid {flag} {text!r}: expected HOST[:PORT][/path]")
        return cls(normalise_registry(host), path)

    def covers(self, ref: Reference) -> bool:
        return ref.registry == self.registry and (
            not self.path or ref.repository == self.path or ref.repository.startswith(self.path + "/")
        )

    def move(self, ref: Reference, to: Prefix) -> Reference:
        rest = ref.repository[len(self.path) :].lstrip("/") if self.path else ref.repository
        repository = "/".join(p for p in (to.path, rest) if p)
        return Reference(to.registry, repository, ref.tag, ref.digest)


@dataclass(frozen=True, slots=True)
class Migrated:
    """One image known to be at the destination."""

    source: Reference
    destination: Reference
    digest: str | None  # of the manifest, when known


@dataclass(frozen=True, slots=True)
class Resolution:
    """The answer for one reference: where it goes, whether that is known to exist, its digest."""

    target: Reference | None  # None: nothing says where this reference would go
    migrated: bool
    digest: str | None = None
    why: str = ""


def _tagged(ref: Reference) -> Reference:
    """Docker's default: a reference with neither tag nor digest means ``latest``."""
    return ref if ref.tag or ref.digest else ref.with_tag("latest")


def _parse(text: str, where: str) -> Reference:
    try:
        return parse_reference(text)
    except InvalidReference as exc:
        raise MappingError(f"{where}: {exc}") from None


class MigrationIndex:
    """Images known to be migrated, by source tag and by source digest, plus whole repositories from maps."""

    def __init__(self) -> None:
        self._by_tag: dict[tuple[str, str, str], Migrated] = {}
        self._by_digest: dict[tuple[str, str, str], Migrated] = {}
        self._repositories: dict[tuple[str, str], Reference] = {}  # map entries without a tag: every tag
        self.source_registries: set[str] = set()

    def add(self, migrated: Migrated) -> None:
        src = migrated.source
        self.source_registries.add(src.registry)
        if src.tag:
            self._by_tag[(src.registry, src.repository, src.tag)] = migrated
        if migrated.digest:
            self._by_digest[(src.registry, src.repository, migrated.digest)] = migrated

    def add_repository(self, source: Reference, destination: Reference) -> None:
        self.source_registries.add(source.registry)
        self._repositories[(source.registry, source.repository)] = destination

    def add_report(self, path: Path) -> None:
        try:
            report = SyncReport.model_validate_json(path.read_bytes())
        except OSError as exc:
            raise MappingError(f"cannot read report {path}: {exc.strerror}") from None
        except ValueError:
            raise MappingError(f"{path} is not a regcopy sync or migrate report") from None
        for job in report.jobs:
            if job.status in ("copied", "skipped"):
                where = f"report {path}"
                self.add(Migrated(_parse(job.source, where), _parse(job.destination, where), job.digest))

    def add_map(self, path: Path) -> None:
        """``source: destination`` pairs (YAML or JSON); a source without tag stands for all its tags."""
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise MappingError(f"cannot read map {path}: {exc.strerror}") from None
        except yaml.YAMLError:
            raise MappingError(f"map {path} is not valid YAML or JSON") from None
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise MappingError(f"map {path} must be a mapping of source reference to destination reference")
        for key, value in data.items():
            source, destination = _parse(key, f"map {path}"), _parse(value, f"map {path}")
            if source.tag or source.digest:
                self.add(Migrated(source, _tagged(destination), destination.digest or source.digest))
            else:
                self.add_repository(source, destination)

    def lookup(self, ref: Reference) -> Migrated | None:
        ref = _tagged(ref)
        if ref.tag:
            found = self._by_tag.get((ref.registry, ref.repository, ref.tag))
            if found is not None and (not ref.digest or not found.digest or found.digest == ref.digest):
                return found
            if found is not None:
                return None  # the tag was migrated with another digest than this reference pins
        if ref.digest:
            found = self._by_digest.get((ref.registry, ref.repository, ref.digest))
            if found is not None:
                return found
        destination = self._repositories.get((ref.registry, ref.repository))
        if destination is not None:
            return Migrated(ref, Reference(destination.registry, destination.repository, ref.tag, ref.digest), None)
        return None


class Resolver:
    def __init__(self, index: MigrationIndex, rules: Iterable[tuple[Prefix, Prefix]] = ()) -> None:
        self.index = index
        self.rules = list(rules)

    def on_source_side(self, ref: Reference) -> bool:
        """Whether this reference names something a migration was about (so it is worth reporting)."""
        return ref.registry in self.index.source_registries or any(f.covers(ref) for f, _ in self.rules)

    def resolve(self, ref: Reference) -> Resolution:
        known = self.index.lookup(ref)
        for source, to in self.rules:
            if source.covers(ref):
                target = source.move(ref, to)
                if known is not None:
                    return Resolution(target, True, known.digest or ref.digest)
                return Resolution(target, False, ref.digest, "not in the report or map")
        if known is not None:
            destination = known.destination
            if not ref.tag and not ref.digest and destination.tag == "latest":
                destination = Reference(destination.registry, destination.repository)
            elif ref.digest and not ref.tag:
                destination = Reference(destination.registry, destination.repository, None, ref.digest)
            elif ref.digest:
                destination = destination.with_digest(ref.digest)
            return Resolution(destination, True, known.digest or ref.digest)
        if self.on_source_side(ref):
            return Resolution(None, False, None, "not in the report or map")
        return Resolution(None, False)


def load_index(reports: Iterable[Path], maps: Iterable[Path]) -> MigrationIndex:
    index = MigrationIndex()
    for path in reports:
        index.add_report(path)
    for path in maps:
        index.add_map(path)
    return index


def render(target: Reference, original: Reference, digest: str | None, pin: bool) -> str:
    """The new reference text, in the original's style: no tag stays no tag when it meant ``latest``."""
    tag = target.tag
    if tag == "latest" and not original.tag:
        tag = None
    text = target.name + (f":{tag}" if tag else "")
    pinned = target.digest or (digest if pin else None)
    return text + (f"@{pinned}" if pinned else "")
