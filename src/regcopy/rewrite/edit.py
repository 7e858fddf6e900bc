"""Rewriting one file: decide every reference the scanner found, then replace only those spans.

Two passes so that the network is asked once for everything: :func:`plan_file`
decides what it can from the report, map and rules and lists what only the
destination can answer (``--verify``, digests for ``--pin-digest``);
:func:`apply` edits the text once those answers are in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from regcopy.errors import InvalidReference
from regcopy.reference import Reference, parse_reference
from regcopy.rewrite.mapping import Resolution, Resolver, render
from regcopy.rewrite.yamlscan import ImageParts, ImageString, PullSecrets, Span, scan

DEFAULT_OLD_SECRETS = ("qcloudregistrykey",)


@dataclass(slots=True)
class Options:
    pin_digest: bool = False
    verify: bool = False
    pull_secret: str | None = None
    replace_secrets: tuple[str, ...] = DEFAULT_OLD_SECRETS


@dataclass(slots=True)
class Occurrence:
    found: ImageString | ImageParts
    original: Reference
    resolution: Resolution

    @property
    def line(self) -> int:
        return self.found.span.line if isinstance(self.found, ImageString) else self.found.line

    def needs_destination(self, options: Options) -> bool:
        """Whether only a HEAD at the destination can settle this one."""
        target = self.resolution.target
        if target is None:
            return False
        unverified = not self.resolution.migrated and options.verify
        undigested = self.resolution.migrated and options.pin_digest and not self.resolution.digest
        return unverified or undigested


@dataclass(slots=True)
class Change:
    line: int
    old: str
    new: str


@dataclass(slots=True)
class FilePlan:
    path: Path
    text: str
    occurrences: list[Occurrence] = field(default_factory=list)
    secrets: list[PullSecrets] = field(default_factory=list)
    error: str | None = None  # the file could not be read as YAML: left untouched


@dataclass(slots=True)
class FileResult:
    path: Path
    old: str
    new: str
    changes: list[Change] = field(default_factory=list)
    not_migrated: list[tuple[int, str, str]] = field(default_factory=list)  # line, reference, why
    secrets_replaced: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _reference_text(found: ImageString | ImageParts) -> str:
    if isinstance(found, ImageString):
        return found.value
    text = found.repository[0]
    if found.registry is not None:
        text = f"{found.registry[0].rstrip('/')}/{text}"
    if found.tag is not None:
        text += f":{found.tag[0]}"
    if found.digest is not None:
        text += f"@{found.digest[0]}"
    return text


def plan_file(path: Path, text: str, resolver: Resolver) -> FilePlan:
    plan = FilePlan(path, text)
    try:
        scanned = scan(text)
    except ValueError as exc:
        plan.error = str(exc)
        return plan
    for found in scanned.images:
        try:
            original = parse_reference(_reference_text(found))
        except InvalidReference:
            continue  # not an image reference we understand (a template, a variable): left as it is
        plan.occurrences.append(Occurrence(found, original, resolver.resolve(original)))
    plan.secrets = scanned.secrets
    return plan


def _quote_safe(value: str, span: Span) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"') if span.quote == '"' else value


def _edits_for(occurrence: Occurrence, options: Options) -> list[tuple[Span, str]]:
    resolution, found = occurrence.resolution, occurrence.found
    assert resolution.target is not None
    new = render(resolution.target, occurrence.original, resolution.digest, options.pin_digest)
    if isinstance(found, ImageString):
        return [(found.span, new)]
    target = parse_reference(new)
    edits: list[tuple[Span, str]] = []
    if found.registry is not None:
        edits += [(found.registry[1], target.registry), (found.repository[1], target.repository)]
    else:
        edits.append((found.repository[1], target.name))
    pinned = target.digest if options.pin_digest or found.digest else None
    if found.digest is not None and pinned:
        edits.append((found.digest[1], pinned))
    elif pinned and found.tag is not None and not occurrence.original.digest:
        edits.append((found.tag[1], f"{found.tag[0]}@{pinned}"))  # charts render "repository:tag"
    return edits


def apply(plan: FilePlan, resolver: Resolver, options: Options) -> FileResult:
    result = FileResult(plan.path, plan.text, plan.text)
    if plan.error is not None:
        result.notes.append(f"{plan.path}: left untouched, {plan.error}")
        return result
    edits: list[tuple[Span, str]] = []
    for occurrence in plan.occurrences:
        resolution = occurrence.resolution
        if resolution.target is not None and resolution.migrated:
            edits += _edits_for(occurrence, options)
            new_text = render(resolution.target, occurrence.original, resolution.digest, options.pin_digest)
            result.changes.append(Change(occurrence.line, _reference_text(occurrence.found), new_text))
            if options.pin_digest and not resolution.digest and not occurrence.original.digest:
                result.notes.append(f"{plan.path}:{occurrence.line}: no digest known for {new_text}; not pinned")
        elif resolution.why:
            result.not_migrated.append((occurrence.line, _reference_text(occurrence.found), resolution.why))
    if options.pull_secret:
        edits += _secret_edits(plan, resolver, options, result)
    result.new = _splice(plan.text, edits)
    return result


def _secret_edits(plan: FilePlan, resolver: Resolver, options: Options, result: FileResult) -> list[tuple[Span, str]]:
    """Replace old pull secrets, except in pod specs that still pull something that was not migrated."""
    assert options.pull_secret is not None
    migrated = {
        (o.found.span.start if isinstance(o.found, ImageString) else o.found.repository[1].start)
        for o in plan.occurrences
        if o.resolution.migrated
    }
    edits = []
    for secrets in plan.secrets:
        left_behind = []
        for image in secrets.images:
            try:
                ref = parse_reference(image.value)
            except InvalidReference:
                continue
            if resolver.on_source_side(ref) and image.span.start not in migrated:
                left_behind.append(image.value)
        for name, span in secrets.names:
            if name not in options.replace_secrets or name == options.pull_secret:
                continue
            if left_behind:
                result.notes.append(
                    f"{plan.path}:{span.line}: kept pull secret {name}: this pod still pulls {left_behind[0]},"
                    " which is not migrated"
                )
                continue
            edits.append((span, options.pull_secret))
            result.secrets_replaced.append((span.line, name))
    return edits


def _splice(text: str, edits: list[tuple[Span, str]]) -> str:
    if not edits:
        return text
    pieces, position = [], 0
    for span, value in sorted(edits, key=lambda e: e[0].start):
        if span.start < position:
            continue  # two edits of one scalar (an anchor used twice): the first wins
        pieces += [text[position : span.start], _quote_safe(value, span)]
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)
