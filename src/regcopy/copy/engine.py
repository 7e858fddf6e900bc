"""Running a plan of copy jobs: one scheduler, global limits, one outcome per job, progress as events.

Every job ends as ``copied``, ``skipped`` or ``failed`` with a reason; an error
in one job never stops the others. The engine never prints: callers subscribe
to :class:`Event` values (the CLI renders them, libraries may log or ignore them).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import anyio

from regcopy.copy.context import CopyContext
from regcopy.copy.image import copy_image
from regcopy.copy.models import JobOutcome, PlanFailureRecord, SyncOptions, SyncReport, SyncSummary
from regcopy.copy.plan import CopyJob, Plan
from regcopy.errors import RegcopyError
from regcopy.reference import Reference

log = logging.getLogger(__name__)

EventKind = Literal["planned", "finished", "bytes"]


@dataclass(frozen=True, slots=True)
class Event:
    """Progress of a run: ``planned`` (total jobs known), ``finished`` (one outcome), ``bytes`` (n uploaded)."""

    kind: EventKind
    total: int = 0
    outcome: JobOutcome | None = None
    nbytes: int = 0


EventHandler = Callable[[Event], None]


TagKey = tuple[str, str, str]


async def _existing_tags(jobs: list[CopyJob], context: CopyContext, limit: int) -> set[TagKey]:
    """``--assume-immutable-tags``: one ``tags/list`` per destination repository instead of a HEAD per tag."""
    repositories = {(j.destination.registry, j.destination.repository) for j in jobs if j.destination.tag}
    existing: set[TagKey] = set()
    limiter = anyio.CapacityLimiter(limit)

    async def one(registry: str, repository: str) -> None:
        host = Reference(registry, repository).api_host
        async with limiter:
            try:
                tags = await context.pool.client(host, repository).list_tags(repository)
            except RegcopyError as exc:
                log.info("cannot list tags of %s/%s (%s); checking each tag instead", registry, repository, exc)
                return
        existing.update((registry, repository, tag) for tag in tags)

    async with anyio.create_task_group() as group:
        for registry, repository in sorted(repositories):
            group.start_soon(one, registry, repository)
    return existing


async def _run_job(job: CopyJob, options: SyncOptions, context: CopyContext) -> JobOutcome:
    started = time.monotonic()
    outcome = JobOutcome(source=str(job.source), destination=str(job.destination), status="failed")
    try:
        result = await copy_image(job.source, job.destination, options.copy_options(), context=context)
    except RegcopyError as exc:
        outcome.error, outcome.error_type = str(exc), type(exc).__name__
    except Exception as exc:  # a bug must fail its job, never the run
        log.debug("unexpected error copying %s", job.key, exc_info=True)
        outcome.error, outcome.error_type = f"internal error: {type(exc).__name__}: {exc}", type(exc).__name__
    else:
        stats = result.stats
        outcome.status, outcome.digest = result.status, result.digest
        outcome.bytes_uploaded, outcome.blobs_uploaded = stats.bytes_uploaded, stats.blobs_uploaded
        outcome.blobs_mounted = stats.blobs_mounted
    outcome.seconds = round(time.monotonic() - started, 3)
    return outcome


def summarise(outcomes: list[JobOutcome], plan_failures: int, seconds: float) -> SyncSummary:
    counts: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return SyncSummary(
        total=len(outcomes),
        copied=counts["copied"],
        skipped=counts["skipped"],
        failed=counts["failed"],
        plan_failures=plan_failures,
        bytes_uploaded=sum(o.bytes_uploaded for o in outcomes),
        seconds=round(seconds, 3),
    )


async def run_plan(
    plan: Plan,
    options: SyncOptions | None = None,
    *,
    context: CopyContext,
    on_event: EventHandler | None = None,
) -> SyncReport:
    """Run every job of ``plan`` under the run's global limits and return the full report."""
    options = options or SyncOptions()
    emit = on_event or (lambda event: None)
    started_wall, started = dt.datetime.now(dt.timezone.utc), time.monotonic()
    context.blob_limit(options.concurrency)
    if on_event is not None and context.on_bytes is None:
        context.on_bytes = lambda n: emit(Event("bytes", nbytes=n))
    emit(Event("planned", total=len(plan.jobs)))

    existing = (
        await _existing_tags(plan.jobs, context, options.manifest_concurrency)
        if options.assume_immutable_tags
        else set()
    )
    outcomes: list[JobOutcome | None] = [None] * len(plan.jobs)
    limiter = anyio.CapacityLimiter(options.jobs_in_flight)

    async def one(index: int, job: CopyJob) -> None:
        dst = job.destination
        if dst.tag and (dst.registry, dst.repository, dst.tag) in existing:
            outcome = JobOutcome(source=str(job.source), destination=str(job.destination), status="skipped")
        else:
            async with limiter:
                outcome = await _run_job(job, options, context)
        outcomes[index] = outcome
        emit(Event("finished", outcome=outcome))

    try:
        async with anyio.create_task_group() as group:
            for index, job in enumerate(plan.jobs):
                group.start_soon(one, index, job)
    finally:
        if context.locations.cache is not None:
            context.locations.cache.flush()
    done = [o for o in outcomes if o is not None]
    failures = [
        PlanFailureRecord(
            source=f.source,
            destination=f.destination,
            error=f.error,
            job=f.job.model_dump(exclude_defaults=True) if f.job else {},
        )
        for f in plan.failures
    ]
    return SyncReport(
        started_at=started_wall.isoformat(timespec="seconds"),
        summary=summarise(done, len(failures), time.monotonic() - started),
        jobs=done,
        plan_failures=failures,
    )
