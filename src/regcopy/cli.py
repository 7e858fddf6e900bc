"""The ``regcopy`` command line: parse, build library objects, call, render. No logic of its own."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, NoReturn, TypeVar

import typer

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


def _warn(message: str) -> None:
    typer.echo(f"regcopy: warning: {message}", err=True)


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine, turning every expected failure into one line and an exit code."""
    import anyio
    from pydantic import ValidationError

    from regcopy.errors import RegcopyError

    async def main() -> T:
        return await factory()

    try:
        return anyio.run(main)
    except RegcopyError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        _fail(f"invalid value: {exc.errors()[0]['msg']}", EXIT_USAGE)
    except KeyboardInterrupt:
        _fail("interrupted; run the same command again to finish", 130)


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


def _human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1000
    raise AssertionError("unreachable")


InsecureOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        help="Allow plain HTTP and unverified TLS for this registry (repeatable; also REGCOPY_INSECURE_REGISTRIES).",
    ),
]
VerboseOpt = Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-vv for debug).")]


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
        options = CopyOptions(platforms=tuple(platform or ()), concurrency=concurrency, chunk_size=chunk_size)
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"invalid --{str(first['loc'][0]).replace('_', '-')}: {first['msg']}", EXIT_USAGE)
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
        f" {_human_size(s.bytes_uploaded)} in {result.seconds:.1f}s)"
    )


@app.command("version")
def version_command() -> None:
    """Print the version."""
    from regcopy import __version__

    typer.echo(f"regcopy {__version__}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
