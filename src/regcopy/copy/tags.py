"""Choosing which tags of a repository to copy. Pure functions, tested without a network."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:[-+_.]?(.*))?", re.IGNORECASE)


VersionKey = tuple[tuple[int, ...], int, str]


def version_key(tag: str) -> VersionKey | None:
    """A sort key for semver-like tags (``v1.2.3``, ``1.2``, ``2.0.0-rc1``); ``None`` for anything else.

    Releases sort above their pre-releases (``1.0.0`` > ``1.0.0-rc2``), as in semver.
    """
    match = _VERSION.fullmatch(tag)
    if not match:
        return None
    numbers = tuple(int(g) if g else 0 for g in match.groups()[:4])
    suffix = match.group(5) or ""
    return (numbers, 0 if suffix else 1, suffix)


def order_by_version(tags: Iterable[str]) -> list[str]:
    """Newest first: version tags by version, then the other tags by name (they rank below versions)."""
    keyed = [(version_key(t), t) for t in sorted(set(tags))]
    versioned = sorted(((k, t) for k, t in keyed if k is not None), reverse=True)
    return [t for _, t in versioned] + [t for k, t in keyed if k is None]


def select_tags(
    tags: Sequence[str],
    *,
    explicit: Sequence[str] | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    latest: int | None = None,
) -> list[str]:
    """Apply the selection in a fixed order: explicit list, include, exclude, then ``latest`` N.

    ``include`` and ``exclude`` are regular expressions searched anywhere in the
    tag (anchor them with ``^...$`` to match whole tags). An explicit list is
    taken as given, even for tags the listing did not show.
    """
    chosen = list(explicit) if explicit is not None else list(tags)
    if include:
        patterns = [re.compile(p) for p in include]
        chosen = [t for t in chosen if any(p.search(t) for p in patterns)]
    if exclude:
        patterns = [re.compile(p) for p in exclude]
        chosen = [t for t in chosen if not any(p.search(t) for p in patterns)]
    if latest is not None and latest > 0:
        chosen = order_by_version(chosen)[:latest]
    return list(dict.fromkeys(chosen))
