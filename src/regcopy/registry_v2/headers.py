"""Parsers for the two structured headers registries send: ``WWW-Authenticate`` and ``Link``.

Both are pure and total: any input yields a value (possibly empty), never an
exception, because a misbehaving registry must not crash a migration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(,|$)', re.DOTALL)
_SCHEME = re.compile(rf"\s*,?\s*({_TOKEN})(?:\s+|$)")


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # lowercased: "bearer", "basic", ...
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_www_authenticate(value: str) -> list[Challenge]:
    """Split ``Bearer realm="..",service=".." , Basic realm=".."`` into challenges."""
    challenges: list[Challenge] = []
    pos = 0
    while pos < len(value):
        scheme_match = _SCHEME.match(value, pos)
        if not scheme_match:
            break
        pos = scheme_match.end()
        params: dict[str, str] = {}
        while pos < len(value):
            param = _PARAM.match(value, pos)
            if not param:
                break
            quoted, bare = param.group(2), param.group(3)
            text = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else (bare or "")
            params[param.group(1).lower()] = text
            pos = param.end()
        challenges.append(Challenge(scheme_match.group(1).lower(), params))
    return challenges


_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_REL = re.compile(r';\s*rel\s*=\s*"?([^";,]+)"?', re.IGNORECASE)


def parse_link_next(value: str | None) -> str | None:
    """The target of the ``rel="next"`` link, as registries use for ``tags/list`` and ``_catalog``."""
    if not value:
        return None
    for match in _LINK.finditer(value):
        rel = _REL.search(match.group(2))
        if rel and "next" in rel.group(1).lower().split():
            return match.group(1).strip() or None
    return None
