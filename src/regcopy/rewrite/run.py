"""``regcopy rewrite`` as a library call: files in, planned edits out; writing is the caller's choice."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterable
from pathlib import Path

import anyio

from regcopy.errors import RegcopyError
from regcopy.reference import Reference
from regcopy.registry_v2.pool import RegistryPool
from regcopy.rewrite.edit import FilePlan, FileResult, Occurrence, Options, apply, plan_file
from regcopy.rewrite.mapping import Resolver

YAML_SUFFIXES = (".yaml", ".yml")


def collect(paths: Iterable[Path]) -> list[Path]:
    """The files named, and every ``*.yaml``/``*.yml`` below the directories named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in YAML_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise RegcopyError(f"no such file or directory: {path}")
    return files


async def _check_destinations(occurrences: list[Occurrence], pool: RegistryPool, limit: int = 16) -> None:
    """HEAD each distinct target once; what exists counts as migrated and gives its digest."""
    targets: dict[str, Reference] = {}
    for occurrence in occurrences:
        target = occurrence.resolution.target
        assert target is not None
        targets.setdefault(str(target), target)
    answers: dict[str, str | None] = {}
    limiter = anyio.CapacityLimiter(limit)

    async def head(key: str, ref: Reference) -> None:
        async with limiter:
            found = await pool.client(ref.api_host, ref.repository).head_manifest(ref.repository, ref.api_reference)
        answers[key] = found.digest if found is not None and found.digest else None

    async with anyio.create_task_group() as group:
        for key, ref in targets.items():
            group.start_soon(head, key, ref)
    for occurrence in occurrences:
        digest = answers[str(occurrence.resolution.target)]
        resolution = occurrence.resolution
        if digest is None:
            occurrence.resolution = dataclasses.replace(resolution, why="not found at the destination")
        else:
            occurrence.resolution = dataclasses.replace(resolution, migrated=True, digest=resolution.digest or digest)


async def rewrite(
    paths: Iterable[Path], resolver: Resolver, options: Options, pool: RegistryPool | None = None
) -> list[FileResult]:
    """Plan every file, ask the destination what only it can answer, then compute each file's new text."""
    plans: list[FilePlan] = []
    for path in collect(paths):
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise RegcopyError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        plans.append(plan_file(path, text, resolver))
    pending = [o for plan in plans for o in plan.occurrences if o.needs_destination(options)]
    if pending:
        own_pool = pool is None
        pool = pool or RegistryPool()
        try:
            await _check_destinations(pending, pool)
        finally:
            if own_pool:
                await pool.aclose()
    return [apply(plan, resolver, options) for plan in plans]


def unified_diff(result: FileResult) -> str:
    import difflib

    if result.new == result.old:
        return ""
    lines = difflib.unified_diff(
        result.old.splitlines(keepends=True),
        result.new.splitlines(keepends=True),
        fromfile=f"a/{str(result.path).lstrip('/')}",
        tofile=f"b/{str(result.path).lstrip('/')}",
    )
    return "".join(lines)


def _relative(path: Path, roots: Iterable[Path]) -> Path:
    for root in roots:
        if root.is_dir() and path.is_relative_to(root):
            return path.relative_to(root)
    return Path(path.name)


def write_results(results: Iterable[FileResult], roots: Iterable[Path], *, in_place: bool, out: Path | None) -> None:
    """``in_place``: replace changed files atomically; ``out``: a copy of every file under ``out``, paths kept."""
    roots = list(roots)
    for result in results:
        if in_place and result.new != result.old:
            tmp = result.path.with_name(result.path.name + ".regcopy-tmp")
            tmp.write_text(result.new)
            shutil.copymode(result.path, tmp)
            tmp.replace(result.path)
        elif out is not None:
            target = out / _relative(result.path, roots)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(result.new)
