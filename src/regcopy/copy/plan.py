"""Turning configured jobs into concrete copy jobs (one per source manifest and destination).

Expansion talks to registries (``tags/list``, ``_catalog``); a job that cannot
be expanded becomes a reported failure, never a silent gap in the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from regcopy.copy.config import JobConfig, is_prefix
from regcopy.copy.image import resolve_destination
from regcopy.copy.shard import Shard
from regcopy.copy.tags import select_tags
from regcopy.errors import InvalidReference, RegcopyError
from regcopy.reference import Reference, normalise_registry, parse_reference, validate_repository
from regcopy.registry_v2.pool import RegistryPool


@dataclass(frozen=True, slots=True)
class CopyJob:
    source: Reference
    destination: Reference

    @property
    def key(self) -> str:
        return f"{self.source} -> {self.destination}"


@dataclass(frozen=True, slots=True)
class PlanFailure:
    """A configured job (or part of it) that could not be expanded into copy jobs."""

    source: str
    destination: str
    error: str
    job: JobConfig | None = None


@dataclass
class Plan:
    jobs: list[CopyJob] = field(default_factory=list)
    failures: list[PlanFailure] = field(default_factory=list)

    def add(self, job: CopyJob) -> None:
        self.jobs.append(job)

    def extend(self, other: Plan) -> None:
        self.jobs.extend(other.jobs)
        self.failures.extend(other.failures)

    def for_shard(self, shard: Shard | None) -> Plan:
        """The jobs and failures whose destination repository belongs to ``shard``.

        A failure that names no single destination repository (a catalog that could not
        be listed) belongs to shard 0, so that it is reported exactly once.
        """
        if shard is None or shard.count == 1:
            return self
        failures = []
        for failure in self.failures:
            try:
                destination = parse_reference(failure.destination)
            except InvalidReference:
                destination = None
            if (
                shard.owns(destination.registry, destination.repository)
                if destination is not None and destination.repository
                else shard.index == 0
            ):
                failures.append(failure)
        return Plan([j for j in self.jobs if shard.owns(j.destination.registry, j.destination.repository)], failures)

    def deduplicated(self) -> Plan:
        """The same source and destination twice is one job."""
        unique: dict[str, CopyJob] = {}
        for job in self.jobs:
            unique.setdefault(job.key, job)
        return Plan(list(unique.values()), list(self.failures))


def _split_prefix(text: str) -> tuple[str, str]:
    """``host/ns/`` -> (host, "ns/"); ``host`` -> (host, "")."""
    host, _, rest = text.partition("/")
    rest = rest.strip("/")
    return normalise_registry(host), (rest + "/" if rest else "")


async def expand_job(config: JobConfig, pool: RegistryPool, shard: Shard | None = None) -> Plan:
    plan = Plan()
    try:
        if is_prefix(config.source):
            await _expand_prefix(config, pool, plan, shard)
        else:
            source = parse_reference(config.source)
            await _expand_repository_or_image(config, pool, plan, source, config.destination, shard)
    except RegcopyError as exc:
        plan.failures.append(PlanFailure(config.source, config.destination, str(exc), config))
    return plan


async def _expand_repository_or_image(
    config: JobConfig, pool: RegistryPool, plan: Plan, source: Reference, destination: str, shard: Shard | None
) -> None:
    if source.tag or source.digest:
        plan.add(CopyJob(source, resolve_destination(source, parse_reference(destination))))
        return
    dst_repo = parse_reference(destination)
    if dst_repo.tag or dst_repo.digest:
        raise InvalidReference(f"destination {destination!r} of a whole repository must not have a tag or digest")
    if shard is not None and not shard.owns(dst_repo.registry, dst_repo.repository):
        return  # another shard lists and copies this repository
    for digest in config.digests:
        plan.add(CopyJob(source.with_digest(digest), Reference(dst_repo.registry, dst_repo.repository, digest=digest)))
    if config.digests and config.tags is None and not (config.include or config.exclude or config.latest):
        return
    if config.tags is not None and not (config.include or config.exclude or config.latest):
        listed: list[str] = []
    else:
        listed = await pool.client(source.api_host, source.repository).list_tags(source.repository)
    for tag in select_tags(
        listed, explicit=config.tags, include=config.include, exclude=config.exclude, latest=config.latest
    ):
        plan.add(CopyJob(source.with_tag(tag), Reference(dst_repo.registry, dst_repo.repository, tag=tag)))


async def _expand_prefix(config: JobConfig, pool: RegistryPool, plan: Plan, shard: Shard | None) -> None:
    src_host, src_prefix = _split_prefix(config.source)
    dst_host, dst_prefix = _split_prefix(config.destination)
    repositories = [r for r in await pool.client(src_host).catalog() if r.startswith(src_prefix)]
    results: list[Plan] = []

    async def one(repository: str) -> None:
        target = dst_prefix + repository[len(src_prefix) :]
        sub = Plan()
        try:
            validate_repository(target)
            source = Reference(src_host, repository)
            await _expand_repository_or_image(config, pool, sub, source, f"{dst_host}/{target}", shard)
        except RegcopyError as exc:
            retry = config.model_copy(
                update={"source": f"{src_host}/{repository}", "destination": f"{dst_host}/{target}"}
            )
            sub.failures.append(PlanFailure(retry.source, retry.destination, str(exc), retry))
        results.append(sub)

    limiter = anyio.CapacityLimiter(16)

    async def limited(repository: str) -> None:
        async with limiter:
            await one(repository)

    async with anyio.create_task_group() as group:
        for repository in repositories:
            group.start_soon(limited, repository)
    nonempty = [p for p in results if p.jobs or p.failures]  # other shards' repositories yield nothing
    for sub in sorted(nonempty, key=lambda p: p.jobs[0].key if p.jobs else p.failures[0].source):
        plan.extend(sub)


async def expand(jobs: list[JobConfig], pool: RegistryPool, shard: Shard | None = None) -> Plan:
    """Expand every configured job concurrently; the order of the result follows the configuration.

    With ``shard``, only that shard's part: repositories of other shards are not even listed.
    """
    results: list[Plan | None] = [None] * len(jobs)

    async def one(index: int, job: JobConfig) -> None:
        results[index] = await expand_job(job, pool, shard)

    async with anyio.create_task_group() as group:
        for index, job in enumerate(jobs):
            group.start_soon(one, index, job)
    plan = Plan()
    for result in results:
        assert result is not None
        plan.extend(result)
    return plan.deduplicated().for_shard(shard)
