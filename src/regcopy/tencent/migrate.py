"""The CCR (Personal Edition) to TCR (Enterprise Edition) migration: inventory, plan, provision, copy.

1. find the TCR instance (fail fast, listing the instances that do exist);
2. take the CCR inventory: every repository and its newest ``tag_num`` tags by push time;
3. check every target name against TCR's rules and set aside what cannot be migrated as is;
4. create the missing namespaces and repositories through the API;
5. copy every selected tag through the sync engine, with its limits, retries and report.

The result carries the three counts of the vendor tool's final line: failed
transfers, repositories whose tags could not be listed, and jobs that could not
be built (names TCR would reject, provisioning failures, unreadable inventory pages).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

import anyio
from pydantic import BaseModel, Field

from regcopy.copy.context import CopyContext
from regcopy.copy.engine import EventHandler, run_plan
from regcopy.copy.models import PlanFailureRecord, SyncOptions, SyncReport
from regcopy.copy.plan import CopyJob, Plan
from regcopy.copy.shard import Shard
from regcopy.copy.verify import VerifyReport, verify_plan
from regcopy.reference import Reference
from regcopy.registry_v2.credentials import Credentials
from regcopy.tencent.api import APICredentials, TencentAPI
from regcopy.tencent.inventory import Inventory, take_inventory
from regcopy.tencent.provision import (
    Instance,
    Provisioned,
    ensure_namespaces,
    ensure_repositories,
    find_instance,
    instance_token,
    repository_problem,
)
from regcopy.tencent.regions import ccr_domain, tcr_domain

log = logging.getLogger(__name__)

_TOKEN_RENEW_MARGIN = 300.0


class MigrateOptions(BaseModel):
    tcr_name: str = Field(min_length=1)
    ccr_region: str = "ap-guangzhou"
    tcr_region: str = Field(min_length=1)
    tag_num: int = Field(default=0, ge=0, description="newest N tags per repository by push time; 0 = all")
    namespaces: list[str] = Field(default_factory=list)
    repositories: list[str] = Field(default_factory=list)
    private: bool = False
    create_repositories: bool = True
    ccr_endpoint: str | None = None
    tcr_endpoint: str | None = None
    api_endpoint: str | None = None
    sync: SyncOptions = Field(default_factory=SyncOptions)
    shard: str | None = Field(default=None, description="I/N or auto: only this shard's repositories")
    provision: Literal["yes", "only", "skip"] = Field(
        default="yes", description="create namespaces and repositories (only: and copy nothing; skip: assume done)"
    )

    def parsed_shard(self) -> Shard | None:
        return Shard.parse(self.shard) if self.shard else None


@dataclass(slots=True)
class MigrationPlan:
    instance: Instance
    ccr_host: str
    tcr_host: str
    inventory: Inventory
    plan: Plan = field(default_factory=Plan)
    rejected: dict[str, str] = field(default_factory=dict)  # repository -> why TCR would refuse its name
    namespaces: dict[str, bool] = field(default_factory=dict)  # namespace -> public
    repositories: dict[str, str] = field(default_factory=dict)  # repository -> description


def finished_line(report: SyncReport) -> str:
    counts = report.workflow.get("counts", {})
    return (
        f"################# Finished, {counts.get('transfer_failed', 0)} transfer jobs failed,"
        f" {counts.get('urlpair_failed', 0)} normal urlPair generate failed,"
        f" {counts.get('generate_failed', 0)} jobs generate failed #################"
    )


def _public_namespaces(inventory: Inventory, private: bool) -> dict[str, bool]:
    """A namespace is public only if every repository in it is public in CCR (never expose by accident).

    Decided from every listed repository, so that all shards agree on every namespace.
    """
    result: dict[str, bool] = {}
    for repository in inventory.listed:
        result[repository.namespace] = result.get(repository.namespace, True) and repository.public and not private
    return result


async def build_plan(options: MigrateOptions, ccr_api: TencentAPI, tcr_api: TencentAPI) -> MigrationPlan:
    """The whole migration, or one shard's part of it (its repositories; shard 0 also owns inventory failures).

    ``--provision-only`` plans the provisioning of every repository and lists no tags.
    """
    instance = await find_instance(tcr_api, options.tcr_name)
    tcr_host = options.tcr_endpoint or instance.public_domain or tcr_domain(instance.name)
    shard = options.parsed_shard()

    def owned(name: str) -> bool:
        return options.provision == "only" or shard is None or shard.owns(tcr_host, name)

    inventory = await take_inventory(
        ccr_api,
        tag_num=options.tag_num,
        namespaces=options.namespaces,
        repositories=options.repositories,
        concurrency=options.sync.manifest_concurrency,
        list_tags_of=(lambda name: False) if options.provision == "only" else owned,
    )
    if shard is not None and shard.index != 0:
        inventory.list_failures = []  # reported once, by shard 0
    ccr_host = options.ccr_endpoint or ccr_domain(options.ccr_region, inventory.server)
    result = MigrationPlan(instance, ccr_host, tcr_host, inventory)
    unlisted = {f.what for f in inventory.tag_failures}  # reported as such; provisioned when a rerun lists them
    for repository in inventory.listed:
        if not owned(repository.name) or repository.name in unlisted:
            continue
        problem = repository_problem(repository.name)
        if problem:
            result.rejected[repository.name] = problem
            continue
        result.repositories[repository.name] = repository.description
    for repository in inventory.repositories:
        if repository.name in result.rejected:
            continue
        for tag in repository.tags:
            result.plan.add(
                CopyJob(Reference(ccr_host, repository.name, tag.name), Reference(tcr_host, repository.name, tag.name))
            )
    public = _public_namespaces(inventory, options.private)
    result.namespaces = {n: public[n] for n in {r.split("/", 1)[0] for r in result.repositories}}
    return result


def _blocked(migration: MigrationPlan, provisioned: Provisioned) -> dict[str, str]:
    """Repositories that cannot receive pushes because their namespace or themselves could not be created."""
    blocked: dict[str, str] = {}
    for name in migration.repositories:
        reason = provisioned.failures.get(name.split("/", 1)[0]) or provisioned.failures.get(name)
        if reason:
            blocked[name] = reason
    return blocked


def _plan_failures(migration: MigrationPlan, blocked: dict[str, str]) -> list[PlanFailureRecord]:
    """Everything that did not become a copy job; records with a ``repository`` are retried by --retry-failed."""
    ccr, tcr = migration.ccr_host, migration.tcr_host
    records = [
        PlanFailureRecord(source=f"{ccr} ({f.what})", destination=tcr, error=f.error)
        for f in migration.inventory.list_failures
    ]
    records += [
        PlanFailureRecord(
            source=f"{ccr}/{f.what}", destination=f"{tcr}/{f.what}", error=f.error, job={"repository": f.what}
        )
        for f in migration.inventory.tag_failures
    ]
    records += [
        PlanFailureRecord(source=f"{ccr}/{name}", destination=f"{tcr}/{name}", error=f"cannot be migrated as is: {why}")
        for name, why in sorted(migration.rejected.items())
    ]
    records += [
        PlanFailureRecord(
            source=f"{ccr}/{name}", destination=f"{tcr}/{name}", error=f"provisioning: {why}", job={"repository": name}
        )
        for name, why in sorted(blocked.items())
    ]
    return records


@asynccontextmanager
async def _apis(
    options: MigrateOptions, ccr: APICredentials, tcr: APICredentials
) -> AsyncIterator[tuple[TencentAPI, TencentAPI]]:
    ccr_api = TencentAPI(ccr, options.ccr_region, endpoint=options.api_endpoint)
    tcr_api = TencentAPI(tcr, options.tcr_region, endpoint=options.api_endpoint)
    try:
        yield ccr_api, tcr_api
    finally:
        await ccr_api.aclose()
        await tcr_api.aclose()


async def keep_token_fresh(
    api: TencentAPI, instance: Instance, context: CopyContext, host: str, expires: float, *, min_wait: float = 30.0
) -> None:
    """Renew the temporary instance token before it expires, for runs longer than its lifetime."""
    while True:
        await anyio.sleep(max(min_wait, expires - time.time() - _TOKEN_RENEW_MARGIN))
        username, token, expires = await instance_token(api, instance)
        context.pool.set_credentials(host, Credentials(username, token))
        log.info("renewed the temporary token of TCR instance %s", instance.name)


async def migrate(
    options: MigrateOptions,
    *,
    ccr_api_credentials: APICredentials,
    tcr_api_credentials: APICredentials,
    context: CopyContext,
    ccr_auth: Credentials | None = None,
    tcr_auth: Credentials | None = None,
    on_event: EventHandler | None = None,
    retry_failed: SyncReport | None = None,
    dry_run: bool = False,
) -> SyncReport | tuple[MigrationPlan, VerifyReport]:
    """Run the migration; ``dry_run`` returns the plan and a digest comparison instead and writes nothing."""
    async with _apis(options, ccr_api_credentials, tcr_api_credentials) as (ccr_api, tcr_api):
        migration = await build_plan(options, ccr_api, tcr_api)
        if retry_failed is not None:
            wanted = {(j.source, j.destination) for j in retry_failed.jobs if j.status == "failed"}
            retry_repos = {str(f.job.get("repository")) for f in retry_failed.plan_failures if f.job}
            migration.plan = Plan(
                [
                    j
                    for j in migration.plan.jobs
                    if (str(j.source), str(j.destination)) in wanted or j.source.repository in retry_repos
                ]
            )
        if ccr_auth is not None:
            context.pool.set_credentials(migration.ccr_host, ccr_auth)
        if tcr_auth is not None:
            context.pool.set_credentials(migration.tcr_host, tcr_auth)
        if dry_run:
            if tcr_auth is None:  # a temporary token only reads here; it changes nothing in the instance
                username, token, _ = await instance_token(tcr_api, migration.instance)
                context.pool.set_credentials(migration.tcr_host, Credentials(username, token))
            return migration, await verify_plan(migration.plan, context, options.sync.manifest_concurrency)

        provisioned = Provisioned()
        if options.provision != "skip":
            await ensure_namespaces(tcr_api, migration.instance, migration.namespaces, provisioned)
            if options.create_repositories:
                await ensure_repositories(tcr_api, migration.instance, migration.repositories, provisioned)
        blocked = _blocked(migration, provisioned)
        jobs = [j for j in migration.plan.jobs if j.destination.repository not in blocked]

        async with anyio.create_task_group() as group:
            if tcr_auth is None and jobs:
                username, token, expires = await instance_token(tcr_api, migration.instance)
                context.pool.set_credentials(migration.tcr_host, Credentials(username, token))
                group.start_soon(keep_token_fresh, tcr_api, migration.instance, context, migration.tcr_host, expires)
            report = await run_plan(Plan(jobs), options.sync, context=context, on_event=on_event)
            group.cancel_scope.cancel()

    report.plan_failures = _plan_failures(migration, blocked)
    report.summary.plan_failures = len(report.plan_failures)
    unbuilt = len(migration.inventory.list_failures) + len(migration.rejected) + len(blocked)
    report.workflow = {
        "kind": "ccr-to-tcr",
        "instance": {
            "name": migration.instance.name,
            "id": migration.instance.registry_id,
            "region": migration.instance.region,
        },
        "ccr_registry": migration.ccr_host,
        "tcr_registry": migration.tcr_host,
        "repositories": len(migration.inventory.repositories),
        "shard": options.shard and str(options.parsed_shard()),
        "namespaces_created": provisioned.namespaces_created,
        "repositories_created": provisioned.repositories_created,
        "counts": {
            "transfer_failed": report.summary.failed,
            "urlpair_failed": len(migration.inventory.tag_failures),
            "generate_failed": unbuilt,
        },
    }
    return report
