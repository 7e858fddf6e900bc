"""The ``regcopy`` command line: parse, build library objects, call, render. No logic of its own."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from regcopy.copy.config import SyncConfig
    from regcopy.copy.context import CopyContext
    from regcopy.copy.models import SyncOptions
    from regcopy.registry_v2 import Credentials
    from regcopy.registry_v2.retry import RetryPolicy

app = typer.Typer(
    name="regcopy",
    help="Copy container images between registries, byte for byte, without a Docker daemon.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2


def _fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    typer.echo(f"regcopy: error: {message}", err=True)
    raise typer.Exit(code)


def _fail_invalid_option(exc: Exception) -> NoReturn:
    """A pydantic error on an options model, named after the flag (nested models: the innermost field)."""
    from pydantic import ValidationError

    assert isinstance(exc, ValidationError)
    first = exc.errors()[0]
    _fail(f"invalid --{str(first['loc'][-1]).replace('_', '-')}: {first['msg']}", EXIT_USAGE)


def _warn(message: str) -> None:
    typer.echo(f"regcopy: warning: {message}", err=True)


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine, turning every expected failure into one line and an exit code."""
    import anyio
    from pydantic import ValidationError

    from regcopy.errors import ExceptionGroups, RegcopyError, first_error

    async def main() -> T:
        return await factory()

    try:
        try:
            return anyio.run(main)
        except ExceptionGroups as group:
            raise first_error(group) from None
    except RegcopyError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        _fail(f"invalid value: {exc.errors()[0]['msg']}", EXIT_USAGE)
    except KeyboardInterrupt:
        _fail("interrupted; run the same command again to finish", 130)
    except Exception as exc:  # a bug, not a user error: still one line, the traceback only with -vv
        logging.getLogger("regcopy").debug("internal error", exc_info=True)
        _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with -vv for the traceback, and report it)")


def _credentials(flag: str, value: str | None, env: str) -> object:
    from regcopy.errors import RegcopyError
    from regcopy.registry_v2 import Credentials

    source = flag
    if value is not None:
        _warn(f"{flag} on the command line is visible to other users (ps); prefer the {env} environment variable")
    else:
        value, source = os.environ.get(env), env
    if not value:
        return None
    try:
        return Credentials.parse(value, source=source)
    except RegcopyError as exc:
        _fail(str(exc), EXIT_USAGE)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # httpx logs every request URL at INFO; upload URLs carry session state, never credentials.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose > 2 else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


InsecureOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        help="Allow plain HTTP and unverified TLS for this registry (repeatable; also REGCOPY_INSECURE_REGISTRIES).",
    ),
]
VerboseOpt = Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-vv for debug).")]
ShardOpt = Annotated[
    str | None,
    typer.Option(
        "--shard",
        metavar="I/N|auto",
        help="Only shard I of N (0-based), split by destination repository; auto: from an Indexed Job's environment.",
    ),
]
ReportOpt = Annotated[Path | None, typer.Option("--report", metavar="FILE.json", help="Write every job's outcome.")]
RetryFailedOpt = Annotated[
    Path | None, typer.Option("--retry-failed", metavar="FILE.json", help="Rerun only the failures of a report.")
]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", "-j", help="Blobs in flight, across all jobs.")]
ManifestConcurrencyOpt = Annotated[
    int, typer.Option("--manifest-concurrency", help="Manifest and API requests in flight.")
]
CacheDirOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="Where the blob location cache lives (default ~/.cache/regcopy).")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the blob location cache.")]
RetriesOpt = Annotated[int, typer.Option("--retries", help="Attempts per request for retryable errors.")]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", metavar="SECONDS", help="How long a network read may stall before it is retried.")
]
ReadBufferOpt = Annotated[
    int,
    typer.Option(
        "--read-buffer",
        metavar="BYTES",
        help="How far each connection reads ahead of the upload (see python -m benchmarks tune).",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress; only failures and the summary.")]


@app.command("copy")
def copy_command(
    source: Annotated[str, typer.Argument(help="Source image: host[:port]/repo[:tag][@digest].")],
    destination: Annotated[str, typer.Argument(help="Destination image; without a tag it takes the source's tag.")],
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            metavar="OS/ARCH[/VARIANT]",
            help="Copy only these platforms of an index (repeatable). Rewrites the index: its digest changes.",
        ),
    ] = None,
    insecure_registry: InsecureOpt = None,
    src_creds: Annotated[
        str | None, typer.Option("--src-creds", metavar="USER:PASS", help="Source credentials (env REGCOPY_SRC_CREDS).")
    ] = None,
    dest_creds: Annotated[
        str | None,
        typer.Option("--dest-creds", metavar="USER:PASS", help="Destination credentials (env REGCOPY_DEST_CREDS)."),
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", help="Blobs in flight.")] = 8,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            "--chunk-size", metavar="BYTES", help="Upload in chunks of this size (for proxies that cap bodies)."
        ),
    ] = None,
    referrers: Annotated[
        bool, typer.Option("--referrers", help="Also copy OCI referrers and cosign .sig/.att/.sbom tags.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Copy one image or a whole multi-platform index. Exit 0 when copied or already up to date."""
    _setup_logging(verbose)
    from regcopy.copy import CopyContext, CopyOptions, copy_image
    from regcopy.errors import RegcopyError
    from regcopy.reference import parse_reference
    from regcopy.registry_v2 import Credentials, RegistryPool

    try:
        src, dst = parse_reference(source), parse_reference(destination)
    except RegcopyError as exc:
        _fail(str(exc), EXIT_USAGE)
    from pydantic import ValidationError

    from regcopy.registry_v2 import Platform

    try:
        for item in platform or ():
            Platform.parse(item)
        options = CopyOptions(
            platforms=tuple(platform or ()), concurrency=concurrency, chunk_size=chunk_size, referrers=referrers
        )
    except ValidationError as exc:
        _fail_invalid_option(exc)
    except ValueError as exc:
        _fail(str(exc), EXIT_USAGE)
    credentials: dict[str, Credentials] = {}
    for host, creds in (
        (src.api_host, _credentials("--src-creds", src_creds, "REGCOPY_SRC_CREDS")),
        (dst.api_host, _credentials("--dest-creds", dest_creds, "REGCOPY_DEST_CREDS")),
    ):
        if isinstance(creds, Credentials):
            credentials[host] = creds

    async def run() -> object:
        context = CopyContext(pool=RegistryPool(credentials=credentials, insecure=insecure_registry or ()))
        try:
            return await copy_image(src, dst, options, context=context)
        finally:
            await context.aclose()

    result = _run(run)
    from regcopy.copy import CopyResult
    from regcopy.progress import human_bytes

    assert isinstance(result, CopyResult)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    if quiet:
        return
    if result.platforms_selected:
        typer.echo(
            f"note: index rewritten for {', '.join(result.platforms_selected)}:"
            f" {result.digest} differs from the source's {result.source_digest}"
        )
    if result.status == "skipped":
        typer.echo(f"skipped {result.source} -> {result.destination}: destination already has {result.digest}")
        return
    s = result.stats
    typer.echo(
        f"copied {result.source} -> {result.destination} {result.digest}"
        f" ({s.blobs_uploaded} blobs uploaded, {s.blobs_mounted} mounted, {s.blobs_existing} already present,"
        f" {human_bytes(s.bytes_uploaded)} in {result.seconds:.1f}s"
        + (f", {s.referrers_copied} referrers" if s.referrers_copied else "")
        + ")"
    )


def _read_config(
    config: Path | None, images: Path | None, auth: Path | None, registry: str | None, namespace: str | None
) -> object:
    from regcopy.copy.config import load_sync_config
    from regcopy.copy.imagesyncer import load_image_syncer

    if images is not None:
        if config is not None:
            _fail("give either CONFIG or --images/--auth, not both", EXIT_USAGE)
        return load_image_syncer(images, auth, registry=registry, namespace=namespace)
    if auth is not None:
        _fail("--auth needs --images", EXIT_USAGE)
    return load_sync_config(config) if config is not None else None


def _write_json(path: Path, model: object) -> None:
    from pydantic import BaseModel

    assert isinstance(model, BaseModel)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(model.model_dump_json(indent=2) + "\n")
    tmp.replace(path)


@app.command("sync")
def sync_command(
    config: Annotated[
        Path | None, typer.Argument(help="Sync configuration (YAML or JSON).", show_default=False)
    ] = None,
    images: Annotated[Path | None, typer.Option("--images", help="image-syncer images file.")] = None,
    auth: Annotated[Path | None, typer.Option("--auth", help="image-syncer auth file.")] = None,
    registry: Annotated[
        str | None, typer.Option("--registry", help="image-syncer default registry for empty destinations.")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="image-syncer default namespace for empty destinations.")
    ] = None,
    report: ReportOpt = None,
    retry_failed: RetryFailedOpt = None,
    shard: ShardOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be copied or skipped; write nothing.")
    ] = False,
    concurrency: ConcurrencyOpt = 8,
    manifest_concurrency: ManifestConcurrencyOpt = 16,
    jobs: Annotated[int, typer.Option("--jobs", "--proc", help="Images worked on at once.")] = 64,
    platform: Annotated[
        list[str] | None, typer.Option("--platform", metavar="OS/ARCH[/VARIANT]", help="Copy only these platforms.")
    ] = None,
    insecure_registry: InsecureOpt = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", metavar="BYTES", help="Upload in chunks.")] = None,
    referrers: Annotated[
        bool, typer.Option("--referrers", help="Also copy OCI referrers and cosign .sig/.att/.sbom tags.")
    ] = False,
    assume_immutable_tags: Annotated[
        bool,
        typer.Option(
            "--assume-immutable-tags", help="Copy only tags missing at the destination (one tags/list per repository)."
        ),
    ] = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    retries: RetriesOpt = 5,
    timeout: TimeoutOpt = 300.0,
    read_buffer: ReadBufferOpt = 1024 * 1024,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Copy everything a configuration lists. Exit 0 only when every job was copied or skipped."""
    _setup_logging(verbose)
    from pydantic import ValidationError

    from regcopy.copy.config import SyncConfig
    from regcopy.copy.models import SyncOptions, SyncReport
    from regcopy.copy.shard import Shard
    from regcopy.copy.sync import load_report, plan_for, plan_retry
    from regcopy.copy.verify import VerifyReport
    from regcopy.errors import RegcopyError
    from regcopy.registry_v2 import Platform

    try:
        for item in platform or ():
            Platform.parse(item)
        options = SyncOptions(
            concurrency=concurrency,
            manifest_concurrency=manifest_concurrency,
            jobs_in_flight=jobs,
            platforms=tuple(platform or ()),
            chunk_size=chunk_size,
            assume_immutable_tags=assume_immutable_tags,
            referrers=referrers,
            timeout=timeout,
            read_buffer=read_buffer,
        )
        retry = _retry_policy(retries)
        parsed = _read_config(config, images, auth, registry, namespace)
        previous = load_report(retry_failed) if retry_failed else None
        part = Shard.parse(shard) if shard else None
    except ValidationError as exc:
        _fail_invalid_option(exc)
    except (ValueError, RegcopyError) as exc:
        _fail(str(exc), EXIT_USAGE)
    if parsed is None and previous is None:
        _fail("nothing to do: give a CONFIG file, --images, or --retry-failed REPORT", EXIT_USAGE)
    assert parsed is None or isinstance(parsed, SyncConfig)

    async def run() -> SyncReport | VerifyReport:
        from regcopy.copy.engine import run_plan
        from regcopy.copy.verify import verify_plan
        from regcopy.progress import with_progress

        context = _run_context(
            parsed, options, insecure=insecure_registry, retry=retry, cache_dir=cache_dir, no_cache=no_cache or dry_run
        )
        try:
            plan = await (plan_retry(previous, context, part) if previous else plan_for(parsed, context, part))  # type: ignore[arg-type]
            if dry_run:
                return await verify_plan(plan, context, options.manifest_concurrency)
            report = await with_progress(
                lambda on_event: run_plan(plan, options, context=context, on_event=on_event), quiet=quiet
            )
            if part is not None:
                report.workflow["shard"] = str(part)
            return report
        finally:
            await context.aclose()

    result = _run(run)
    if isinstance(result, VerifyReport):
        _print_dry_run(result)
        raise typer.Exit(0 if not result.plan_failures else EXIT_FAILED)
    assert isinstance(result, SyncReport)
    _record_and_list_failures(result, report)
    typer.echo(f"sync: {result.summary.line()}")
    if not result.summary.ok:
        hint = f" (rerun, or --retry-failed {report})" if report else " (rerun to retry; --report keeps a list)"
        typer.echo(f"sync: {result.summary.failed + result.summary.plan_failures} failures{hint}", err=True)
        raise typer.Exit(EXIT_FAILED)


def _retry_policy(retries: int) -> RetryPolicy:
    """``--retries`` counts attempts, so anything below 1 would never send a request."""
    from regcopy.registry_v2.retry import RetryPolicy

    if retries < 1:
        _fail("--retries must be at least 1", EXIT_USAGE)
    return RetryPolicy(attempts=retries)


def _run_context(
    config: SyncConfig | None,
    options: SyncOptions,
    *,
    insecure: list[str] | None,
    retry: RetryPolicy,
    cache_dir: Path | None,
    no_cache: bool,
) -> CopyContext:
    """The engine context of a sync or migrate run: its registries, limits and blob-location cache."""
    from regcopy.copy.blobcache import BlobCache
    from regcopy.copy.sync import make_context

    cache = None if no_cache else BlobCache(cache_dir)
    return make_context(config, options, insecure=insecure or (), retry=retry, cache=cache)


def _record_and_list_failures(result: object, report: Path | None) -> None:
    """Write the report if asked, then one line on stderr for everything that failed."""
    from regcopy.copy.models import SyncReport

    assert isinstance(result, SyncReport)
    if report is not None:
        _write_json(report, result)
    for failure in result.plan_failures:
        typer.echo(f"failed to plan {failure.source} -> {failure.destination}: {failure.error}", err=True)
    for outcome in result.jobs:
        if outcome.status == "failed":
            typer.echo(f"failed {outcome.source} -> {outcome.destination}: {outcome.error}", err=True)


def _print_dry_run(result: object) -> None:
    from regcopy.copy.verify import VerifyReport

    assert isinstance(result, VerifyReport)
    for comparison in result.comparisons:
        typer.echo(f"skip {comparison.source} -> {comparison.destination} (already {comparison.source_digest})")
    for difference in result.differences:
        if difference.problem in ("missing", "different"):
            typer.echo(f"copy {difference.source} -> {difference.destination} ({difference.problem})")
        else:
            detail = difference.error or "source image not found"
            typer.echo(f"fail {difference.source} -> {difference.destination}: {detail}")
    for failure in result.plan_failures:
        typer.echo(f"fail {failure.source} -> {failure.destination}: {failure.error}")
    copy = sum(1 for d in result.differences if d.problem in ("missing", "different"))
    typer.echo(
        f"dry run: {result.checked} jobs: {copy} to copy, {result.matching} to skip,"
        f" {len(result.differences) - copy + len(result.plan_failures)} failing; nothing was written"
    )


@app.command("verify")
def verify_command(
    target: Annotated[Path, typer.Argument(help="A sync configuration or a --report file.", show_default=False)],
    insecure_registry: InsecureOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Compare source and destination digests of every job; exit 1 on any difference."""
    _setup_logging(verbose)
    from regcopy.copy.config import load_sync_config
    from regcopy.copy.sync import is_report, load_report, make_context, verify
    from regcopy.copy.verify import VerifyReport
    from regcopy.errors import RegcopyError

    try:
        source = load_report(target) if is_report(target) else load_sync_config(target)
    except RegcopyError as exc:
        _fail(str(exc), EXIT_USAGE)

    async def run() -> VerifyReport:
        from regcopy.copy.models import SyncReport

        config = None if isinstance(source, SyncReport) else source
        logins = _migrate_logins(source) if isinstance(source, SyncReport) else {}
        context = make_context(config, insecure=insecure_registry or (), credentials=logins)
        try:
            return await verify(source, context=context)
        finally:
            await context.aclose()

    result = _run(run)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        for difference in result.differences:
            detail = {
                "missing": "missing at the destination",
                "different": f"destination has {difference.destination_digest}, source {difference.source_digest}",
                "source-missing": "source image not found",
                "error": difference.error or "error",
            }[difference.problem]
            typer.echo(f"{difference.problem}: {difference.source} -> {difference.destination}: {detail}")
        for failure in result.plan_failures:
            typer.echo(f"unplanned: {failure.source} -> {failure.destination}: {failure.error}")
        typer.echo(
            f"verify: {result.checked} checked, {result.matching} identical,"
            f" {len(result.differences)} different"
            + (f", {len(result.plan_failures)} could not be listed" if result.plan_failures else "")
        )
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _migrate_logins(report: object) -> dict[str, Credentials]:
    """For a migrate report: REGCOPY_CCR_AUTH / REGCOPY_TCR_AUTH for the registries it names, as migrate uses them."""
    from regcopy.copy.models import SyncReport
    from regcopy.registry_v2 import Credentials

    assert isinstance(report, SyncReport)
    logins = {}
    for side in ("ccr", "tcr"):
        host = report.workflow.get(f"{side}_registry")
        creds = _credentials(f"--{side}-auth", None, f"REGCOPY_{side.upper()}_AUTH")
        if isinstance(host, str) and isinstance(creds, Credentials):
            logins[host] = creds
    return logins


def _secret(flag: str, value: str | None, envs: tuple[str, ...], on_argv: list[str]) -> str | None:
    """A secret from its option (noted in ``on_argv``: argv is visible in ps) or the first variable set."""
    if value is not None:
        on_argv.append(flag)
        return value
    return next((os.environ[e] for e in envs if os.environ.get(e)), None)


@app.command("migrate")
def migrate_command(
    tcr_name: Annotated[str, typer.Option("--tcr-name", "--tcrName", help="Name of the TCR Enterprise instance.")],
    tcr_region: Annotated[
        str, typer.Option("--tcr-region", "--tcrRegionName", help="Region of the TCR instance, e.g. ap-shanghai.")
    ],
    ccr_region: Annotated[
        str, typer.Option("--ccr-region", "--ccrRegionName", help="Region of the CCR Personal Edition.")
    ] = "ap-guangzhou",
    tag_num: Annotated[
        int, typer.Option("--tag-num", "--tagNum", help="Copy the N most recently pushed tags per repository; 0 = all.")
    ] = 0,
    ccr_auth: Annotated[
        str | None,
        typer.Option("--ccr-auth", "--ccrAuth", metavar="USER:PASS", help="CCR registry login (env REGCOPY_CCR_AUTH)."),
    ] = None,
    tcr_auth: Annotated[
        str | None,
        typer.Option(
            "--tcr-auth",
            "--tcrAuth",
            metavar="USER:PASS",
            help="TCR registry login (env REGCOPY_TCR_AUTH); default: a temporary instance token.",
        ),
    ] = None,
    ccr_secret_id: Annotated[
        str | None, typer.Option("--ccr-secret-id", "--ccrSecretId", help="API SecretId for CCR.")
    ] = None,
    ccr_secret_key: Annotated[
        str | None, typer.Option("--ccr-secret-key", "--ccrSecretKey", help="API SecretKey for CCR.")
    ] = None,
    tcr_secret_id: Annotated[
        str | None, typer.Option("--tcr-secret-id", "--tcrSecretId", help="API SecretId for TCR.")
    ] = None,
    tcr_secret_key: Annotated[
        str | None, typer.Option("--tcr-secret-key", "--tcrSecretKey", help="API SecretKey for TCR.")
    ] = None,
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", help="Only these CCR namespaces (repeatable; shell patterns).")
    ] = None,
    repo: Annotated[
        list[str] | None, typer.Option("--repo", help="Only these repositories, ns/name (repeatable; shell patterns).")
    ] = None,
    private: Annotated[bool, typer.Option("--private", help="Create every TCR namespace private.")] = False,
    no_create_repos: Annotated[
        bool, typer.Option("--no-create-repos", help="Do not create repositories through the API; push creates them.")
    ] = False,
    tcr_endpoint: Annotated[
        str | None,
        typer.Option("--tcr-endpoint", metavar="HOST[:PORT]", help="TCR registry address (VPC or custom domain)."),
    ] = None,
    ccr_endpoint: Annotated[
        str | None, typer.Option("--ccr-endpoint", metavar="HOST[:PORT]", help="CCR registry address.")
    ] = None,
    api_endpoint: Annotated[
        str | None,
        typer.Option(
            "--api-endpoint", metavar="URL", help="Tencent Cloud API endpoint (env REGCOPY_TENCENT_API_ENDPOINT)."
        ),
    ] = None,
    report: ReportOpt = None,
    retry_failed: RetryFailedOpt = None,
    shard: ShardOpt = None,
    provision_only: Annotated[
        bool,
        typer.Option("--provision-only", help="Create every namespace and repository in TCR, copy nothing."),
    ] = False,
    skip_provision: Annotated[
        bool, typer.Option("--skip-provision", help="Create nothing through the API (done by --provision-only).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created and copied; change nothing.")
    ] = False,
    concurrency: ConcurrencyOpt = 8,
    manifest_concurrency: ManifestConcurrencyOpt = 16,
    jobs: Annotated[int, typer.Option("--jobs", help="Images worked on at once.")] = 64,
    insecure_registry: InsecureOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    retries: RetriesOpt = 5,
    timeout: TimeoutOpt = 300.0,
    read_buffer: ReadBufferOpt = 1024 * 1024,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Migrate CCR (Personal Edition) to a TCR (Enterprise Edition) instance: namespaces, repositories, tags."""
    _setup_logging(verbose)
    from pydantic import ValidationError

    from regcopy.copy.models import SyncOptions, SyncReport
    from regcopy.copy.sync import load_report
    from regcopy.errors import RegcopyError
    from regcopy.registry_v2 import Credentials
    from regcopy.tencent.api import APICredentials
    from regcopy.tencent.migrate import MigrateOptions, finished_line, migrate

    if tag_num < 0:
        _fail(f"invalid --tag-num {tag_num}: use 0 for all tags or a positive number", EXIT_USAGE)
    if provision_only and skip_provision:
        _fail("give either --provision-only or --skip-provision, not both", EXIT_USAGE)
    retry = _retry_policy(retries)
    try:
        options = MigrateOptions(
            tcr_name=tcr_name,
            ccr_region=ccr_region,
            tcr_region=tcr_region,
            tag_num=tag_num,
            namespaces=namespace or [],
            repositories=repo or [],
            private=private,
            create_repositories=not no_create_repos,
            ccr_endpoint=ccr_endpoint,
            tcr_endpoint=tcr_endpoint,
            api_endpoint=api_endpoint,
            shard=shard,
            provision="only" if provision_only else "skip" if skip_provision else "yes",
            sync=SyncOptions(
                concurrency=concurrency,
                manifest_concurrency=manifest_concurrency,
                jobs_in_flight=jobs,
                timeout=timeout,
                read_buffer=read_buffer,
            ),
        )
        previous = load_report(retry_failed) if retry_failed else None
        options.parsed_shard()
    except ValidationError as exc:
        _fail_invalid_option(exc)
    except RegcopyError as exc:
        _fail(str(exc), EXIT_USAGE)

    api_keys = {}
    on_argv: list[str] = []
    identifiers: list[str] = []  # SecretIds identify, they do not authenticate: no warning for them
    for side, sid, skey in (("ccr", ccr_secret_id, ccr_secret_key), ("tcr", tcr_secret_id, tcr_secret_key)):
        up = side.upper()
        secret_id = _secret(
            f"--{side}-secret-id", sid, (f"REGCOPY_{up}_SECRET_ID", "TENCENTCLOUD_SECRET_ID"), identifiers
        )
        secret_key = _secret(
            f"--{side}-secret-key", skey, (f"REGCOPY_{up}_SECRET_KEY", "TENCENTCLOUD_SECRET_KEY"), on_argv
        )
        if not secret_id or not secret_key:
            _fail(
                f"no API key for {side.upper()}: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"
                f" (or --{side}-secret-id/--{side}-secret-key)",
                EXIT_USAGE,
            )
        api_keys[side] = APICredentials(secret_id, secret_key)
    logins: dict[str, Credentials | None] = {}
    for side, value in (("ccr", ccr_auth), ("tcr", tcr_auth)):
        text = _secret(f"--{side}-auth", value, (f"REGCOPY_{side.upper()}_AUTH",), on_argv)
        try:
            logins[side] = Credentials.parse(text, source=f"--{side}-auth") if text else None
        except RegcopyError as exc:
            _fail(str(exc), EXIT_USAGE)
    if on_argv:
        _warn(
            f"{', '.join(on_argv)} on the command line can be read by other users (ps); prefer the environment:"
            " TENCENTCLOUD_SECRET_KEY (or REGCOPY_CCR_SECRET_KEY / REGCOPY_TCR_SECRET_KEY),"
            " REGCOPY_CCR_AUTH, REGCOPY_TCR_AUTH"
        )

    async def run() -> object:
        from regcopy.progress import with_progress

        context = _run_context(
            None,
            options.sync,
            insecure=insecure_registry,
            retry=retry,
            cache_dir=cache_dir,
            no_cache=no_cache or dry_run,
        )
        try:
            return await with_progress(
                lambda on_event: migrate(
                    options,
                    ccr_api_credentials=api_keys["ccr"],
                    tcr_api_credentials=api_keys["tcr"],
                    context=context,
                    ccr_auth=logins["ccr"],
                    tcr_auth=logins["tcr"],
                    on_event=on_event,
                    retry_failed=previous,
                    dry_run=dry_run,
                ),
                quiet=quiet or dry_run,
            )
        finally:
            await context.aclose()

    result = _run(run)
    if isinstance(result, tuple):
        _print_migration_plan(*result)
        return
    assert isinstance(result, SyncReport)
    _record_and_list_failures(result, report)
    workflow = result.workflow
    typer.echo(
        f"provisioned: {len(workflow.get('namespaces_created', []))} namespaces,"
        f" {len(workflow.get('repositories_created', []))} repositories created in TCR instance {tcr_name}"
    )
    typer.echo(finished_line(result))
    typer.echo(f"migrate: {result.summary.line()}")
    if not result.summary.ok:
        raise typer.Exit(EXIT_FAILED)


def _print_migration_plan(migration: object, comparison: object) -> None:
    from regcopy.copy.verify import VerifyReport
    from regcopy.tencent.migrate import MigrationPlan

    assert isinstance(migration, MigrationPlan) and isinstance(comparison, VerifyReport)
    typer.echo(
        f"TCR instance {migration.instance.name} ({migration.instance.registry_id}), registry"
        f" {migration.tcr_host}; CCR registry {migration.ccr_host}"
    )
    for namespace, public in sorted(migration.namespaces.items()):
        typer.echo(f"namespace {namespace} ({'public' if public else 'private'})")
    for name, why in sorted(migration.rejected.items()):
        typer.echo(f"cannot migrate {name}: {why}")
    for failure in migration.inventory.tag_failures + migration.inventory.list_failures:
        typer.echo(f"cannot list {failure.what}: {failure.error}")
    _print_dry_run(comparison)


report_app = typer.Typer(help="Work with --report files.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("merge")
def report_merge_command(
    reports: Annotated[list[Path], typer.Argument(help="Reports of shards or runs (sync or migrate).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE.json", help="Write the merged report here.")
    ] = None,
) -> None:
    """Combine reports into one summary and one failure list (usable with --retry-failed and verify)."""
    from regcopy.copy.merge import merge_reports
    from regcopy.copy.sync import load_report
    from regcopy.errors import RegcopyError
    from regcopy.tencent.migrate import finished_line

    try:
        merged = merge_reports([load_report(path) for path in reports])
    except RegcopyError as exc:
        _fail(str(exc), EXIT_USAGE)
    _record_and_list_failures(merged, output)
    if merged.workflow.get("kind") == "ccr-to-tcr":
        typer.echo(finished_line(merged))
    shards = merged.workflow.get("merged_shards")
    typer.echo(f"merged {len(reports)} reports" + (f" (shards {', '.join(shards)})" if shards else "") + ":")
    typer.echo(f"report: {merged.summary.line()}")
    if not merged.summary.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command("rewrite")
def rewrite_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (*.yaml, *.yml below them).")],
    report: Annotated[
        list[Path] | None,
        typer.Option("--report", metavar="FILE.json", help="A migrate or sync report: what it copied is migrated."),
    ] = None,
    mapping: Annotated[
        list[Path] | None,
        typer.Option("--map", metavar="FILE", help="YAML/JSON of 'source: destination' references (repeatable)."),
    ] = None,
    from_prefix: Annotated[
        list[str] | None,
        typer.Option("--from", metavar="HOST[/PREFIX]", help="Rewrite references under this prefix ..."),
    ] = None,
    to_prefix: Annotated[
        list[str] | None, typer.Option("--to", metavar="HOST[/PREFIX]", help="... to this one (pairs with --from).")
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Count a reference as migrated when the destination has it (HEAD).")
    ] = False,
    pin_digest: Annotated[bool, typer.Option("--pin-digest", help="Write repo:tag@sha256:... references.")] = False,
    pull_secret: Annotated[
        str | None,
        typer.Option("--pull-secret", metavar="NAME", help="Replace qcloudregistrykey in imagePullSecrets by NAME."),
    ] = None,
    replace_secret: Annotated[
        list[str] | None,
        typer.Option("--replace-secret", metavar="NAME", help="Also replace this secret name (repeatable)."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 and print the diff when any file would change (for CI).")
    ] = False,
    in_place: Annotated[bool, typer.Option("--in-place", help="Write the changes into the files.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Write rewritten copies of every file under DIR.")
    ] = None,
    insecure_registry: InsecureOpt = None,
    dest_creds: Annotated[
        str | None,
        typer.Option("--dest-creds", metavar="USER:PASS", help="Login for --verify (env REGCOPY_DEST_CREDS)."),
    ] = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Point workloads at the migrated images: only references known to be migrated are rewritten."""
    _setup_logging(verbose)
    from regcopy.errors import RegcopyError
    from regcopy.registry_v2 import Credentials, RegistryPool
    from regcopy.rewrite.edit import DEFAULT_OLD_SECRETS, Options
    from regcopy.rewrite.mapping import Prefix, Resolver, load_index
    from regcopy.rewrite.run import rewrite

    froms, tos = from_prefix or [], to_prefix or []
    if len(froms) != len(tos):
        _fail("--from and --to come in pairs: give as many of one as of the other", EXIT_USAGE)
    if not (report or mapping or froms):
        _fail("nothing says what was migrated: give --report, --map, or --from/--to (with --verify)", EXIT_USAGE)
    if in_place and out is not None:
        _fail("give either --in-place or --out, not both", EXIT_USAGE)
    try:
        rules = [(Prefix.parse(f, "--from"), Prefix.parse(t, "--to")) for f, t in zip(froms, tos, strict=True)]
        resolver = Resolver(load_index(report or [], mapping or []), rules)
    except RegcopyError as exc:
        _fail(str(exc), EXIT_USAGE)
    options = Options(
        pin_digest=pin_digest,
        verify=verify,
        pull_secret=pull_secret,
        replace_secrets=(*DEFAULT_OLD_SECRETS, *(replace_secret or [])),
    )
    creds = _credentials("--dest-creds", dest_creds, "REGCOPY_DEST_CREDS")

    async def run() -> object:
        targets = {to.registry for _, to in rules}
        credentials = {h: creds for h in targets} if isinstance(creds, Credentials) else {}
        pool = RegistryPool(credentials=credentials, insecure=insecure_registry or ())
        try:
            return await rewrite(paths, resolver, options, pool)
        finally:
            await pool.aclose()

    results = _run(run)
    assert isinstance(results, list)
    _emit_rewrite(results, paths, check=check, in_place=in_place, out=out)


def _emit_rewrite(results: list[object], roots: list[Path], *, check: bool, in_place: bool, out: Path | None) -> None:
    from regcopy.rewrite.edit import FileResult
    from regcopy.rewrite.run import unified_diff, write_results

    files = [r for r in results if isinstance(r, FileResult)]
    for result in files:
        for note in result.notes:
            typer.echo(f"note: {note}", err=True)
        for line, reference, why in result.not_migrated:
            typer.echo(f"not migrated: {result.path}:{line}: {reference} ({why})", err=True)
        if check or (not in_place and out is None):
            typer.echo(unified_diff(result), nl=False)
    if not check:
        write_results(files, roots, in_place=in_place, out=out)
    changed = sum(1 for r in files if r.new != r.old)
    typer.echo(
        f"rewrite: {sum(len(r.changes) for r in files)} references rewritten in {changed} of {len(files)} files,"
        f" {sum(len(r.secrets_replaced) for r in files)} pull secrets replaced,"
        f" {sum(len(r.not_migrated) for r in files)} not migrated"
        + (" (nothing written: --check)" if check else "" if in_place or out else " (diff only; --in-place to write)"),
        err=True,
    )
    if check and changed:
        raise typer.Exit(EXIT_FAILED)


@app.command("pull-secret")
def pull_secret_command(
    registry: Annotated[str, typer.Option("--registry", metavar="HOST", help="e.g. myinstance.tencentcloudcr.com")],
    username: Annotated[str, typer.Option("--username", help="Registry login name.")],
    name: Annotated[str, typer.Option("--name", help="Name of the Secret.")] = "tcr-pull-secret",
    namespace: Annotated[str | None, typer.Option("--namespace", help="Kubernetes namespace of the Secret.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Print a kubernetes.io/dockerconfigjson Secret; the password comes from REGCOPY_PULL_PASSWORD or stdin."""
    from regcopy.errors import RegcopyError
    from regcopy.rewrite.pullsecret import secret_manifest

    password = os.environ.get("REGCOPY_PULL_PASSWORD")
    if password_stdin or not password:
        if sys.stdin.isatty() and not password_stdin:
            _fail("no password: set REGCOPY_PULL_PASSWORD or pipe it in with --password-stdin", EXIT_USAGE)
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        typer.echo(secret_manifest(registry, username, password, name=name, namespace=namespace), nl=False)
    except RegcopyError as exc:
        _fail(str(exc), EXIT_USAGE)


@app.command("version")
def version_command() -> None:
    """Print the version."""
    from regcopy import __version__

    typer.echo(f"regcopy {__version__}")


def main() -> None:
    """Entry point: usage errors become one line on stderr and exit code 2, like every other error."""
    try:  # recent typer vendors click; older ones use the click package
        from typer._click import exceptions as click_exceptions
    except ImportError:  # pragma: no cover
        from click import exceptions as click_exceptions  # type: ignore[no-redef,import-not-found,unused-ignore]

    try:
        code = app(standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        code = 0
    except click_exceptions.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "regcopy"
        typer.echo(f"regcopy: error: {exc.format_message()} (see {command} --help)", err=True)
        code = EXIT_USAGE
    except typer.Abort:
        typer.echo("regcopy: error: interrupted; run the same command again to finish", err=True)
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
