"""Options and results of a copy: the models that cross the library/CLI boundary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from regcopy.registry_v2.manifest import Platform


class CopyOptions(BaseModel):
    """How one image is copied."""

    model_config = ConfigDict(frozen=True)

    platforms: tuple[str, ...] = Field(
        default=(), description="os/arch[/variant] selectors; empty copies every platform of an index"
    )
    concurrency: int = Field(default=8, ge=1, le=1024, description="blobs in flight")
    chunk_size: int | None = Field(
        default=None, ge=1024, description="upload in PATCH chunks of this many bytes instead of one stream"
    )
    mount: bool = Field(default=True, description="try cross-repository mounts before uploading")
    referrers: bool = Field(default=False, description="also copy OCI referrers and cosign signature tags")

    @field_validator("platforms")
    @classmethod
    def _valid_platforms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            Platform.parse(item)
        return value

    def parsed_platforms(self) -> list[Platform]:
        return [Platform.parse(p) for p in self.platforms]


class CopyStats(BaseModel):
    """What moved; every blob is counted in exactly one of uploaded, mounted or existing."""

    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_existing: int = 0
    blobs_foreign: int = 0
    bytes_uploaded: int = 0
    manifests_pushed: int = 0
    referrers_copied: int = 0


class CopyResult(BaseModel):
    source: str
    destination: str
    status: Literal["copied", "skipped"]
    digest: str = Field(description="digest of what the destination now holds")
    source_digest: str = Field(description="digest of the source manifest")
    media_type: str = ""
    platforms_selected: tuple[str, ...] | None = Field(
        default=None, description="set when --platform rewrote an index; the digest then differs"
    )
    stats: CopyStats = Field(default_factory=CopyStats)
    seconds: float = 0.0


class SyncOptions(BaseModel):
    """How a bulk sync runs. Limits are global for the whole run, not per job."""

    model_config = ConfigDict(frozen=True)

    concurrency: int = Field(default=8, ge=1, le=1024, description="blobs in flight across all jobs")
    manifest_concurrency: int = Field(default=16, ge=1, le=1024, description="manifest/API requests in flight")
    jobs_in_flight: int = Field(default=64, ge=1, le=100_000, description="images being worked on at once")
    platforms: tuple[str, ...] = ()
    chunk_size: int | None = Field(default=None, ge=1024)
    mount: bool = True
    referrers: bool = False
    timeout: float = Field(default=300.0, gt=0, description="seconds a network read may stall before a retry")
    read_buffer: int = Field(
        default=1024 * 1024, ge=64 * 1024, le=256 * 1024 * 1024, description="bytes read ahead per connection"
    )
    assume_immutable_tags: bool = Field(
        default=False, description="skip destination tags that exist, comparing tag lists only"
    )

    def copy_options(self) -> CopyOptions:
        return CopyOptions(
            platforms=self.platforms,
            concurrency=self.concurrency,
            chunk_size=self.chunk_size,
            mount=self.mount,
            referrers=self.referrers,
        )


JobStatus = Literal["copied", "skipped", "failed"]


class JobOutcome(BaseModel):
    source: str
    destination: str
    status: JobStatus
    digest: str | None = None
    error: str | None = None
    error_type: str | None = None
    bytes_uploaded: int = 0
    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    seconds: float = 0.0


class PlanFailureRecord(BaseModel):
    """A configured job that could not be expanded (e.g. its tags could not be listed)."""

    source: str
    destination: str
    error: str
    job: dict[str, object] = Field(default_factory=dict, description="the job configuration, to retry it")


class SyncSummary(BaseModel):
    total: int = 0
    copied: int = 0
    skipped: int = 0
    failed: int = 0
    plan_failures: int = 0
    bytes_uploaded: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.plan_failures == 0

    def line(self) -> str:
        return (
            f"{self.total} jobs: {self.copied} copied, {self.skipped} skipped, {self.failed} failed"
            + (f", {self.plan_failures} could not be planned" if self.plan_failures else "")
            + f"; {self.bytes_uploaded / 1e6:.1f} MB uploaded in {self.seconds:.1f}s"
        )


class SyncReport(BaseModel):
    """What ``--report`` writes and ``--retry-failed`` and ``verify`` read."""

    kind: Literal["regcopy-sync-report"] = "regcopy-sync-report"
    version: int = 1
    started_at: str = ""
    summary: SyncSummary = Field(default_factory=SyncSummary)
    jobs: list[JobOutcome] = Field(default_factory=list)
    plan_failures: list[PlanFailureRecord] = Field(default_factory=list)
    workflow: dict[str, Any] = Field(
        default_factory=dict, description="what the workflow around the sync (e.g. migrate) adds to the record"
    )
