"""``sync`` and ``verify`` as library calls: configuration in, report out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from regcopy.copy.blobcache import BlobCache, BlobLocations
from regcopy.copy.config import ConfigError, JobConfig, SyncConfig, load_sync_config
from regcopy.copy.context import CopyContext
from regcopy.copy.engine import EventHandler, run_plan
from regcopy.copy.models import SyncOptions, SyncReport
from regcopy.copy.plan import CopyJob, Plan, expand
from regcopy.copy.shard import Shard
from regcopy.copy.verify import VerifyReport, verify_plan
from regcopy.reference import parse_reference
from regcopy.registry_v2.credentials import Credentials
from regcopy.registry_v2.pool import RegistryPool
from regcopy.registry_v2.retry import RetryPolicy
from regcopy.registry_v2.transport import TransportOptions


def make_context(
    config: SyncConfig | None = None,
    options: SyncOptions | None = None,
    *,
    insecure: Iterable[str] = (),
    retry: RetryPolicy | None = None,
    cache: BlobCache | None = None,
    credentials: dict[str, Credentials] | None = None,
) -> CopyContext:
    """A context whose pool carries the configuration's (and the given) credentials and the run's global limits."""
    options = options or SyncOptions()
    credentials = dict(credentials or {})
    insecure_hosts = set(insecure)
    for host, registry in (config.registries if config else {}).items():
        found = registry.credentials(host)
        if found is not None:
            credentials[host] = found
        if registry.insecure:
            insecure_hosts.add(host.split("/", 1)[0])
    connections = options.concurrency + options.manifest_concurrency + 4
    pool = RegistryPool(
        credentials=credentials,
        insecure=insecure_hosts,
        options=TransportOptions(
            max_connections=connections, read_timeout=options.timeout, read_buffer=options.read_buffer
        ),
        retry=retry,
        api_concurrency=options.manifest_concurrency,
    )
    return CopyContext(pool=pool, locations=BlobLocations(cache))


def load_report(path: Path) -> SyncReport:
    try:
        return SyncReport.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read report {path}: {exc.strerror}") from None
    except ValidationError as exc:
        raise ConfigError(f"{path} is not a regcopy sync report: {exc.errors()[0]['msg']}") from None


def is_report(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_bytes()).get("kind") == "regcopy-sync-report")
    except (OSError, ValueError, AttributeError):
        return False


async def plan_for(config: SyncConfig, context: CopyContext, shard: Shard | None = None) -> Plan:
    return await expand(config.jobs, context.pool, shard)


async def plan_retry(report: SyncReport, context: CopyContext, shard: Shard | None = None) -> Plan:
    """Only what failed: failed jobs as they were, and unplannable jobs expanded again."""
    plan = Plan(
        [
            CopyJob(parse_reference(j.source), parse_reference(j.destination))
            for j in report.jobs
            if j.status == "failed"
        ]
    )
    configs = [JobConfig.model_validate(f.job) for f in report.plan_failures if f.job]
    if configs:
        plan.extend(await expand(configs, context.pool, shard))
    return plan.deduplicated().for_shard(shard)


async def sync(
    config: SyncConfig | str | Path,
    options: SyncOptions | None = None,
    *,
    context: CopyContext | None = None,
    on_event: EventHandler | None = None,
    retry_failed: SyncReport | None = None,
    shard: Shard | None = None,
) -> SyncReport:
    """Run a sync configuration (or only the failures of an earlier report) and return its report.

    ``shard`` runs only that shard's part of the plan (see :mod:`regcopy.copy.shard`).
    """
    if not isinstance(config, SyncConfig):
        config = load_sync_config(Path(config))
    options = options or SyncOptions()
    own = context is None
    ctx = context or make_context(config, options)
    try:
        plan = await (plan_retry(retry_failed, ctx, shard) if retry_failed else plan_for(config, ctx, shard))
        return await run_plan(plan, options, context=ctx, on_event=on_event)
    finally:
        if own:
            await ctx.aclose()


async def verify(config: SyncConfig | SyncReport | str | Path, *, context: CopyContext | None = None) -> VerifyReport:
    """Compare source and destination digests of every job of a configuration or a report."""
    if isinstance(config, (str, Path)):
        path = Path(config)
        config = load_report(path) if is_report(path) else load_sync_config(path)
    own = context is None
    ctx = context or make_context(config if isinstance(config, SyncConfig) else None)
    try:
        if isinstance(config, SyncReport):
            plan = Plan([CopyJob(parse_reference(j.source), parse_reference(j.destination)) for j in config.jobs])
        else:
            plan = await plan_for(config, ctx)
        return await verify_plan(plan, ctx)
    finally:
        if own:
            await ctx.aclose()
