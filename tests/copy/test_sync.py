"""Bulk sync against real registries: hundreds of tags, shared layers, failures, retries, reports."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_cli
from tests.seed import Seeder, fetch_manifest, random_layer, sha256
from tests.servers.registry import RegistryServer

REPOS, TAGS = 20, 10


@pytest.fixture
def fleet(src_registry: RegistryServer, seeder_for) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """20 repositories x 10 tags whose images share two base layers; returns name:tag -> digest."""
    seeder: Seeder = seeder_for(src_registry)
    base = [random_layer(60_000), random_layer(30_000)]
    digests = {}
    for r in range(REPOS):
        for t in range(TAGS):
            repository = f"team{r % 3}/app{r}"
            pushed = seeder.push_image(repository, f"v1.{t}", layers=[*base, random_layer(500)])
            digests[f"{repository}:v1.{t}"] = pushed.digest
    return digests


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data) if path.suffix == ".json" else str(data))
    return path


def test_sync_of_200_tags_uploads_shared_layers_once_and_reruns_as_noop(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer, fleet: dict[str, str]
) -> None:
    config = write(
        tmp_path / "sync.json",
        {"jobs": [{"source": f"{src_registry.host}/", "destination": f"{dst_registry.host}/mirror/"}]},
    )
    report = tmp_path / "report.json"

    first = run_cli("sync", str(config), "--report", str(report), "--cache-dir", str(tmp_path / "cache"))

    assert first.returncode == 0, first.stderr
    assert f"sync: {REPOS * TAGS} jobs: {REPOS * TAGS} copied, 0 skipped, 0 failed" in first.stdout
    outcomes = json.loads(report.read_text())["jobs"]
    assert len(outcomes) == REPOS * TAGS and {o["status"] for o in outcomes} == {"copied"}
    for name, digest in list(fleet.items())[::37]:
        repository, tag = name.split(":")
        data, _ = fetch_manifest(dst_registry.host, f"mirror/{repository}", tag)
        assert sha256(data) == digest
    base_layer_uploads = {}
    for request in dst_registry.blob_uploads():
        digest = httpx.URL(request.uri).params["digest"]
        base_layer_uploads[digest] = base_layer_uploads.get(digest, 0) + 1
    assert max(base_layer_uploads.values()) == 1, "a shared blob was uploaded more than once"
    assert len(base_layer_uploads) == 2 + 2 * REPOS * TAGS  # two shared layers, a config and a top layer per image
    assert len(dst_registry.mounts()) == 2 * (REPOS - 1)

    verified = run_cli("verify", str(report))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"verify: {REPOS * TAGS} checked, {REPOS * TAGS} identical, 0 different" in verified.stdout

    before = len(dst_registry.requests())
    source_before = len(src_registry.requests())
    second = run_cli("sync", str(config), "--cache-dir", str(tmp_path / "cache"))
    assert second.returncode == 0, second.stderr
    assert f"{REPOS * TAGS} jobs: 0 copied, {REPOS * TAGS} skipped, 0 failed" in second.stdout
    dst_new = dst_registry.requests()[before:]
    src_new = src_registry.requests()[source_before + 1 :]  # the +1 skips the marker of the earlier count
    assert {r.method for r in dst_new if r.path != "/v2/"} == {"HEAD"}
    assert len([r for r in dst_new if r.method == "HEAD"]) == REPOS * TAGS
    assert len([r for r in src_new if "/manifests/" in r.path]) == REPOS * TAGS  # one HEAD per tag
    assert not [r for r in src_new if "/blobs/" in r.path]


def test_assume_immutable_tags_lists_instead_of_heading(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder = seeder_for(src_registry)
    for tag in ["v1", "v2", "v3"]:
        seeder.push_image("ns/app", tag)
    config = write(
        tmp_path / "sync.json",
        {
            "jobs": [
                {
                    "source": f"{src_registry.host}/ns/app",
                    "destination": f"{dst_registry.host}/ns/app",
                    "tags": ["v1", "v2"],
                }
            ]
        },
    )
    assert run_cli("sync", str(config), "--no-cache").returncode == 0
    config.write_text(
        json.dumps({"jobs": [{"source": f"{src_registry.host}/ns/app", "destination": f"{dst_registry.host}/ns/app"}]})
    )
    before = len(dst_registry.requests())

    done = run_cli("sync", str(config), "--assume-immutable-tags", "--no-cache")

    assert done.returncode == 0, done.stderr
    assert "3 jobs: 1 copied, 2 skipped, 0 failed" in done.stdout
    new = dst_registry.requests()[before:]
    assert not [r for r in new if r.method == "HEAD" and r.path.endswith(("/v1", "/v2"))]
    assert [r.path for r in new if "tags/list" in r.path] == ["/v2/ns/app/tags/list"]


def test_broken_source_image_fails_alone_and_retry_failed_reruns_only_it(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder = seeder_for(src_registry)
    good = [seeder.push_image(f"ns/good{i}", "v1") for i in range(4)]
    broken = seeder.push_image("ns/broken", "v1")
    missing = broken.blobs[-1]
    deleted = httpx.delete(f"{src_registry.url}/v2/ns/broken/blobs/{missing}")
    assert deleted.status_code == 202
    config = write(
        tmp_path / "sync.json",
        {
            "jobs": [
                {"source": f"{src_registry.host}/ns/{name}:v1", "destination": f"{dst_registry.host}/copy/{name}:v1"}
                for name in ["good0", "good1", "broken", "good2", "good3"]
            ]
        },
    )
    report = tmp_path / "report.json"

    done = run_cli("sync", str(config), "--report", str(report), "--no-cache", "--retries", "2")

    assert done.returncode == 1
    assert "5 jobs: 4 copied, 0 skipped, 1 failed" in done.stdout
    assert f"failed {src_registry.host}/ns/broken:v1 -> {dst_registry.host}/copy/broken:v1" in done.stderr
    assert missing in done.stderr and "BLOB_UNKNOWN" in done.stderr
    assert "Traceback" not in done.stderr
    for pushed in good:
        name = pushed.repository.split("/")[1]
        assert fetch_manifest(dst_registry.host, f"copy/{name}", "v1")[0] == pushed.data
    # nothing corrupt was tagged: the broken image's tag does not exist at the destination
    assert httpx.head(f"{dst_registry.url}/v2/copy/broken/manifests/v1").status_code == 404
    failed = [j for j in json.loads(report.read_text())["jobs"] if j["status"] == "failed"]
    assert [j["source"] for j in failed] == [f"{src_registry.host}/ns/broken:v1"]

    # the source is repaired (the tag re-pushed); a retry reruns only the failed job
    repaired = seeder.push_image("ns/broken", "v1")
    retry_report = tmp_path / "retry.json"
    again = run_cli("sync", "--retry-failed", str(report), "--report", str(retry_report), "--no-cache")
    assert again.returncode == 0, again.stderr
    assert "1 jobs: 1 copied" in again.stdout
    assert json.loads(retry_report.read_text())["summary"]["total"] == 1
    assert fetch_manifest(dst_registry.host, "copy/broken", "v1")[0] == repaired.data


def test_dry_run_writes_nothing(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder = seeder_for(src_registry)
    seeder.push_image("ns/a", "v1")
    seeder.push_image("ns/a", "v2")
    config = write(
        tmp_path / "sync.json",
        {"jobs": [{"source": f"{src_registry.host}/ns/a", "destination": f"{dst_registry.host}/ns/a"}]},
    )
    assert run_cli("sync", str(config), "--no-cache").returncode == 0
    seeder.push_image("ns/a", "v3")
    seeder.push_image("ns/a", "v2")  # v2 changes
    before = len(dst_registry.requests())

    done = run_cli("sync", str(config), "--dry-run")

    assert done.returncode == 0, done.stderr
    assert f"skip {src_registry.host}/ns/a:v1 -> {dst_registry.host}/ns/a:v1" in done.stdout
    assert f"copy {src_registry.host}/ns/a:v2 -> {dst_registry.host}/ns/a:v2 (different)" in done.stdout
    assert f"copy {src_registry.host}/ns/a:v3 -> {dst_registry.host}/ns/a:v3 (missing)" in done.stdout
    assert "3 jobs: 2 to copy, 1 to skip, 0 failing; nothing was written" in done.stdout
    assert {r.method for r in dst_registry.requests()[before:]} <= {"GET", "HEAD"}
    verify = run_cli("verify", str(config))
    assert verify.returncode == 1
    assert "different:" in verify.stdout and "missing:" in verify.stdout


def test_blob_cache_makes_a_later_run_mount_instead_of_upload(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder = seeder_for(src_registry)
    base = random_layer(80_000)
    seeder.push_image("ns/first", "v1", layers=[base])
    seeder.push_image("ns/second", "v1", layers=[base])
    cache = tmp_path / "cache"

    def sync(name: str) -> None:
        config = write(
            tmp_path / f"{name}.json",
            {
                "jobs": [
                    {"source": f"{src_registry.host}/ns/{name}:v1", "destination": f"{dst_registry.host}/ns/{name}:v1"}
                ]
            },
        )
        done = run_cli("sync", str(config), "--cache-dir", str(cache))
        assert done.returncode == 0, done.stderr

    sync("first")
    assert (cache / "blobs.sqlite").exists()
    before = len(dst_registry.requests())
    sync("second")  # a new process: only the cache knows where the base layer is

    new = dst_registry.requests()[before:]
    base_digest = sha256(base)
    mounted = [r for r in new if r.method == "POST" and "mount=" in r.uri and r.status == 201]
    assert len(mounted) == 1 and base_digest.replace(":", "%3A") in mounted[0].uri
    uploaded = [r for r in new if r.method == "PUT" and "/blobs/uploads/" in r.uri]
    assert base_digest not in " ".join(httpx.URL(r.uri).params.get("digest", "") for r in uploaded)
