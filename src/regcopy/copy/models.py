"""Options and results of a copy: the models that cross the library/CLI boundary."""

from __future__ import annotations

from typing import Literal

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
