"""Comparing source and destination digests for every job of a plan (``verify``, and ``--dry-run``)."""

from __future__ import annotations

from typing import Literal

import anyio
from pydantic import BaseModel, Field

from regcopy.copy.context import CopyContext
from regcopy.copy.models import PlanFailureRecord
from regcopy.copy.plan import CopyJob, Plan
from regcopy.errors import NotFound, RegcopyError
from regcopy.reference import Reference

Problem = Literal["missing", "different", "source-missing", "error"]


class Difference(BaseModel):
    source: str
    destination: str
    problem: Problem
    source_digest: str | None = None
    destination_digest: str | None = None
    error: str | None = None


class Comparison(BaseModel):
    source: str
    destination: str
    same: bool
    source_digest: str | None = None
    destination_digest: str | None = None


class VerifyReport(BaseModel):
    checked: int = 0
    matching: int = 0
    differences: list[Difference] = Field(default_factory=list)
    comparisons: list[Comparison] = Field(default_factory=list, exclude=True)
    plan_failures: list[PlanFailureRecord] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.plan_failures


async def digest_of(context: CopyContext, reference: Reference) -> str | None:
    """The manifest digest behind ``reference`` (HEAD, or GET when the registry omits the digest header)."""
    client = context.pool.client(reference.api_host, reference.repository)
    head = await client.head_manifest(reference.repository, reference.api_reference)
    if head is None:
        return None
    if head.digest:
        return head.digest
    try:
        return (await client.get_manifest(reference.repository, reference.api_reference)).digest
    except NotFound:
        return None


async def compare(job: CopyJob, context: CopyContext) -> Difference | Comparison:
    base = {"source": str(job.source), "destination": str(job.destination)}
    try:
        source_digest = await digest_of(context, job.source)
        if source_digest is None:
            return Difference(**base, problem="source-missing")
        destination_digest = await digest_of(context, job.destination)
    except RegcopyError as exc:
        return Difference(**base, problem="error", error=str(exc))
    if destination_digest is None:
        return Difference(**base, problem="missing", source_digest=source_digest)
    same = source_digest == destination_digest
    if not same:
        return Difference(
            **base, problem="different", source_digest=source_digest, destination_digest=destination_digest
        )
    return Comparison(**base, same=True, source_digest=source_digest, destination_digest=destination_digest)


async def verify_plan(plan: Plan, context: CopyContext, concurrency: int = 16) -> VerifyReport:
    """Compare every job; results keep the plan's order."""
    results: list[Difference | Comparison | None] = [None] * len(plan.jobs)
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(index: int, job: CopyJob) -> None:
        async with limiter:
            results[index] = await compare(job, context)

    async with anyio.create_task_group() as group:
        for index, job in enumerate(plan.jobs):
            group.start_soon(one, index, job)
    report = VerifyReport(checked=len(plan.jobs))
    report.plan_failures = [
        PlanFailureRecord(source=f.source, destination=f.destination, error=f.error) for f in plan.failures
    ]
    for result in results:
        if isinstance(result, Difference):
            report.differences.append(result)
        elif isinstance(result, Comparison):
            report.matching += 1
            report.comparisons.append(result)
    return report
