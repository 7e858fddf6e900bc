"""Combining the reports of shards (or of several runs) into one: one summary, one failure list.

The merged report is a report like any other: ``--retry-failed`` reruns its
failures (each shard, given it, takes back its own part) and ``verify`` checks
all of its jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from regcopy.copy.engine import summarise
from regcopy.copy.models import JobOutcome, PlanFailureRecord, SyncReport


def _merge_values(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        return a if a == b else a or b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a + b
    if isinstance(a, list) and isinstance(b, list):
        return sorted(set(a) | set(b), key=str) if all(isinstance(x, str) for x in a + b) else a + b
    if isinstance(a, dict) and isinstance(b, dict):
        return _merge_workflow(a, b)
    return a if a is not None else b


def _merge_workflow(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Counts add up, name lists are united, nested records merge; the rest is taken from the first."""
    merged = dict(a)
    for key, value in b.items():
        merged[key] = _merge_values(merged[key], value) if key in merged else value
    return merged


def merge_reports(reports: Iterable[SyncReport]) -> SyncReport:
    """One report for all: a job reported by several keeps its best outcome (a later success beats a failure)."""
    reports = list(reports)
    jobs: dict[tuple[str, str], JobOutcome] = {}
    failures: dict[tuple[str, str, str], PlanFailureRecord] = {}
    workflow: dict[str, Any] = {}
    shards = []
    for report in reports:
        for job in report.jobs:
            key = (job.source, job.destination)
            if key not in jobs or (jobs[key].status == "failed" and job.status != "failed"):
                jobs[key] = job
        for failure in report.plan_failures:
            failures.setdefault((failure.source, failure.destination, failure.error), failure)
        shard = report.workflow.get("shard")
        if shard:
            shards.append(shard)
        rest = {k: v for k, v in report.workflow.items() if k != "shard"}
        workflow = _merge_workflow(workflow, rest) if workflow else rest
    if shards:
        workflow["merged_shards"] = sorted(shards)
    done = list(jobs.values())
    seconds = max((r.summary.seconds for r in reports), default=0.0)  # shards run side by side
    started = min((r.started_at for r in reports if r.started_at), default="")
    return SyncReport(
        started_at=started,
        summary=summarise(done, len(failures), seconds),
        jobs=done,
        plan_failures=list(failures.values()),
        workflow=workflow,
    )
