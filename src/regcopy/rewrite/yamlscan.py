"""Find image references and pull-secret names in YAML text, with their exact character spans.

Rewriting works on the original text, not on a re-serialised document: the
scanner composes the YAML (PyYAML's node graph keeps each scalar's position)
and reports where each value sits, and the editor replaces only those spans.
Comments, key order, quoting, indentation and everything not understood stay
byte for byte as they were.

What is recognised, in any document of any file:
- ``image: <reference>`` at any depth (Kubernetes containers, initContainers and
  ephemeralContainers, docker-compose services, Helm values);
- ``image: {repository: ..., tag: ..., registry: ..., digest: ...}`` (Helm
  values in their split form);
- ``imagePullSecrets`` lists (``- name: x`` or ``- x``) anywhere, and which
  images the pod spec around them uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

_PROPERTIES = re.compile(r"(?:[&!][^\s]*\s+)*")  # an anchor and/or a tag before the scalar itself
_POD_IMAGE_LISTS = ("containers", "initContainers", "ephemeralContainers")


@dataclass(frozen=True, slots=True)
class Span:
    """Where a scalar's own text is (quotes excluded) and how it is quoted."""

    start: int
    end: int
    line: int  # 1-based, for messages
    quote: str  # "", "'" or '"'


@dataclass(slots=True)
class ImageString:
    """``image: <reference>``."""

    value: str
    span: Span


@dataclass(slots=True)
class ImageParts:
    """``image: {registry?, repository, tag?, digest?}``: the parts and where each one is."""

    repository: tuple[str, Span]
    registry: tuple[str, Span] | None = None
    tag: tuple[str, Span] | None = None
    digest: tuple[str, Span] | None = None

    @property
    def line(self) -> int:
        return self.repository[1].line


@dataclass(slots=True)
class PullSecrets:
    """One ``imagePullSecrets`` list: each secret name, and the images of the pod spec that holds it."""

    names: list[tuple[str, Span]] = field(default_factory=list)
    images: list[ImageString] = field(default_factory=list)


@dataclass(slots=True)
class Scan:
    images: list[ImageString | ImageParts] = field(default_factory=list)
    secrets: list[PullSecrets] = field(default_factory=list)


class NotYAML(ValueError):
    """The file does not parse as YAML; it is left untouched."""


def _span(text: str, node: yaml.ScalarNode) -> Span | None:
    """The scalar's own text; ``None`` for block and multi-line scalars, which are left alone."""
    if node.style in ("|", ">"):
        return None
    start, end = node.start_mark.index, node.end_mark.index
    properties = _PROPERTIES.match(text, start)
    if properties:
        start = properties.end()
    quote = text[start] if start < end and text[start] in "'\"" else ""
    if quote:
        start, end = start + 1, end - 1
    if "\n" in text[start:end]:
        return None
    return Span(start, end, node.start_mark.line + 1, quote)


def _scalar(text: str, node: yaml.Node | None) -> tuple[str, Span] | None:
    if not isinstance(node, yaml.ScalarNode) or not isinstance(node.value, str) or not node.value:
        return None
    span = _span(text, node)
    return (node.value, span) if span is not None else None


def _mapping(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode) and isinstance(k.value, str)}


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.scan = Scan()
        self._seen: set[int] = set()  # aliases point at the node of their anchor: visit it once

    def node(self, node: yaml.Node) -> None:
        if id(node) in self._seen:
            return
        self._seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            self.mapping(node)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.node(item)

    def mapping(self, node: yaml.MappingNode) -> None:
        fields = _mapping(node)
        image = fields.get("image")
        if image is not None and id(image) not in self._seen:
            self._image(image)
        secrets = fields.get("imagePullSecrets")
        if isinstance(secrets, yaml.SequenceNode) and id(secrets) not in self._seen:
            self._seen.add(id(secrets))
            self.scan.secrets.append(self._pull_secrets(secrets, fields))
        for _key, value in node.value:
            self.node(value)

    def _image(self, node: yaml.Node) -> None:
        found = _scalar(self.text, node)
        if found is not None:
            self._seen.add(id(node))
            self.scan.images.append(ImageString(*found))
            return
        if isinstance(node, yaml.MappingNode):
            parts = _mapping(node)
            repository = _scalar(self.text, parts.get("repository"))
            if repository is not None:
                self._seen.add(id(node))
                self.scan.images.append(
                    ImageParts(
                        repository,
                        _scalar(self.text, parts.get("registry")),
                        _scalar(self.text, parts.get("tag")),
                        _scalar(self.text, parts.get("digest")),
                    )
                )

    def _pull_secrets(self, node: yaml.SequenceNode, pod: dict[str, yaml.Node]) -> PullSecrets:
        found = PullSecrets()
        for item in node.value:
            if isinstance(item, yaml.MappingNode):
                name = _scalar(self.text, _mapping(item).get("name"))
            else:
                name = _scalar(self.text, item)
            if name is not None:
                found.names.append(name)
        for key in _POD_IMAGE_LISTS:
            containers = pod.get(key)
            if not isinstance(containers, yaml.SequenceNode):
                continue
            for container in containers.value:
                if isinstance(container, yaml.MappingNode):
                    image = _scalar(self.text, _mapping(container).get("image"))
                    if image is not None:
                        found.images.append(ImageString(*image))
        return found


def scan(text: str) -> Scan:
    """Every image reference and pull-secret list in ``text`` (all documents)."""
    walker = _Walker(text)
    try:
        for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if document is not None:
                walker._seen.clear()  # anchors do not cross documents, and freed nodes' ids are reused
                walker.node(document)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise NotYAML(f"not valid YAML{where}") from None
    return walker.scan
