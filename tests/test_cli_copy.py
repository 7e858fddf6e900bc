"""``regcopy copy`` as a user runs it: real process, real registries, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from regcopy.registry_v2.mediatypes import OCI_INDEX, OCI_MANIFEST
from tests.conftest import PASSWORD, USER, run_cli
from tests.seed import Pushed, Seeder, fetch_manifest, sha256
from tests.servers.registry import RegistryServer, free_port


def assert_one_line_error(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if not line.startswith("regcopy: warning:")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("regcopy: error: ")
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0]


def test_copy_then_skip(src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for) -> None:  # type: ignore[no-untyped-def]
    pushed = seeder_for(src_registry).push_image("ns/app", "v1")
    src, dst = f"{src_registry.host}/ns/app:v1", f"{dst_registry.host}/other/app:v1"

    first = run_cli("copy", src, dst)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"copied {src} -> {dst} {pushed.digest} (3 blobs uploaded")

    second = run_cli("copy", src, dst, "--json")
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    assert result["status"] == "skipped" and result["digest"] == pushed.digest
    assert result["stats"]["bytes_uploaded"] == 0


def test_destination_without_tag_takes_source_tag(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    pushed = seeder_for(src_registry).push_image("ns/app", "v7")
    done = run_cli("copy", "-q", f"{src_registry.host}/ns/app:v7", f"{dst_registry.host}/ns/app")
    assert done.returncode == 0 and done.stdout == ""
    assert fetch_manifest(dst_registry.host, "ns/app", "v7")[0] == pushed.data


def test_platform_selection_rewrites_index_and_says_so(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    index, children = seeder_for(src_registry).push_index(
        "ns/multi", "v1", [("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "arm", "v7")]
    )
    done = run_cli(
        "copy",
        "--platform",
        "linux/arm64",
        "--platform",
        "linux/arm/v7",
        f"{src_registry.host}/ns/multi:v1",
        f"{dst_registry.host}/ns/multi:v1",
    )
    assert done.returncode == 0, done.stderr
    assert "index rewritten for linux/arm64, linux/arm/v7" in done.stdout
    data, _ = fetch_manifest(dst_registry.host, "ns/multi", "v1")
    copied = json.loads(data)
    assert [m["digest"] for m in copied["manifests"]] == [children[1].digest, children[2].digest]
    assert data != index.data

    none = run_cli(
        "copy", "--platform", "windows/amd64", f"{src_registry.host}/ns/multi:v1", f"{dst_registry.host}/ns/win:v1"
    )
    assert none.returncode == 1
    assert_one_line_error(none.stderr, "no platform of", "windows/amd64")


def push_attestation(seeder: Seeder, repository: str, image: Pushed) -> dict[str, object]:
    """A BuildKit-style provenance manifest for ``image`` and its index entry."""
    config = seeder.push_blob(repository, b"{}")
    statement = os.urandom(64)
    layer = seeder.push_blob(repository, statement)
    data = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.in-toto+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": layer, "size": len(statement)}],
        }
    ).encode()
    seeder.push_manifest(repository, sha256(data), data, OCI_MANIFEST)
    return {
        "mediaType": OCI_MANIFEST,
        "digest": sha256(data),
        "size": len(data),
        "platform": {"os": "unknown", "architecture": "unknown"},
        "annotations": {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": image.digest,
        },
    }


def test_platform_selection_keeps_attestations_and_refuses_nested_indexes(
    src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder = seeder_for(src_registry)
    index, children = seeder.push_index("ns/built", "v1", [("linux", "amd64", None), ("linux", "arm64", None)])
    body = json.loads(index.data)
    attestations = [push_attestation(seeder, "ns/built", child) for child in children]
    body["manifests"] += attestations
    data = json.dumps(body).encode()
    seeder.push_manifest("ns/built", "v1", data, OCI_INDEX)

    done = run_cli(
        "copy", "--platform", "linux/arm64", f"{src_registry.host}/ns/built:v1", f"{dst_registry.host}/ns/built:v1"
    )
    assert done.returncode == 0, done.stderr
    copied = json.loads(fetch_manifest(dst_registry.host, "ns/built", "v1")[0])
    assert [m["digest"] for m in copied["manifests"]] == [children[1].digest, attestations[1]["digest"]]
    attestation, _ = fetch_manifest(dst_registry.host, "ns/built", str(attestations[1]["digest"]))
    assert sha256(attestation) == attestations[1]["digest"]

    outer = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_INDEX, "digest": sha256(data), "size": len(data)}],
        }
    ).encode()
    seeder.push_manifest("ns/built", "nested", outer, OCI_INDEX)
    nested = run_cli(
        "copy", "--platform", "linux/amd64", f"{src_registry.host}/ns/built:nested", f"{dst_registry.host}/ns/nested:v1"
    )
    assert nested.returncode == 1
    assert_one_line_error(nested.stderr, "ns/built:nested", "index of indexes", "without --platform")
    assert httpx.get(f"{dst_registry.url}/v2/ns/nested/tags/list").status_code == 404


def test_chunked_upload(src_registry: RegistryServer, dst_registry: RegistryServer, seeder_for) -> None:  # type: ignore[no-untyped-def]
    pushed = seeder_for(src_registry).push_image("ns/big", "v1", layer_sizes=(300_000,))
    done = run_cli("copy", "--chunk-size", "65536", f"{src_registry.host}/ns/big:v1", f"{dst_registry.host}/ns/big:v1")
    assert done.returncode == 0, done.stderr
    assert fetch_manifest(dst_registry.host, "ns/big", "v1")[0] == pushed.data
    patches = [r for r in dst_registry.requests() if r.method == "PATCH"]
    assert len(patches) == 5 + 1  # 300,000 bytes in 64 KiB chunks, plus the small config blob


def test_wrong_password_from_env(basic_registry: RegistryServer, dst_registry: RegistryServer, seeder_for) -> None:  # type: ignore[no-untyped-def]
    seeder_for(basic_registry, (USER, PASSWORD)).push_image("ns/app", "v1")
    done = run_cli(
        "copy",
        f"{basic_registry.host}/ns/app:v1",
        f"{dst_registry.host}/ns/app:v1",
        env={"REGCOPY_SRC_CREDS": f"{USER}:not-the-password-123"},
    )
    assert done.returncode == 1
    assert_one_line_error(done.stderr, basic_registry.host, "check the credentials")
    assert "not-the-password-123" not in done.stderr + done.stdout

    ok = run_cli(
        "copy",
        f"{basic_registry.host}/ns/app:v1",
        f"{dst_registry.host}/ns/app:v1",
        "--src-creds",
        f"{USER}:{PASSWORD}",
    )
    assert ok.returncode == 0, ok.stderr
    assert "visible to other users" in ok.stderr and PASSWORD not in ok.stderr + ok.stdout


def test_malformed_reference_is_a_usage_error() -> None:
    done = run_cli("copy", "127.0.0.1:5000/NS/app:v1", "127.0.0.1:5001/ns/app:v1")
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "must be lowercase", "'NS'")


def test_unreachable_registry() -> None:
    port = free_port()  # nothing listens here
    done = run_cli("copy", f"127.0.0.1:{port}/ns/app:v1", f"127.0.0.1:{port}/ns/other:v1")
    assert done.returncode == 1
    assert_one_line_error(done.stderr, f"cannot reach registry 127.0.0.1:{port}")


def test_unknown_host_name(tmp_path: Path) -> None:
    """In namespaces of its own: only loopback, and name lookups that go to /etc/hosts only.

    So the lookup reaches no one, and the resolver answers "no such name" as DNS would.
    """
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("needs root to create network and mount namespaces (CI runs as root)")
    nsswitch = tmp_path / "nsswitch.conf"
    nsswitch.write_text("hosts: files\n")
    command = " ".join(
        [sys.executable, "-m", "regcopy.cli", "copy", "127.0.0.1:9/ns/app:v1", "no-such-registry.invalid/ns/app:v1"]
    )
    script = f"mount --bind {nsswitch} /etc/nsswitch.conf && ip link set lo up && exec {command}"
    done = subprocess.run(
        ["unshare", "--net", "--mount", "sh", "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stderr
    assert_one_line_error(
        done.stderr, "cannot reach registry no-such-registry.invalid: host name not found", "(check the host name)"
    )


def test_missing_tag(src_registry: RegistryServer, dst_registry: RegistryServer) -> None:
    done = run_cli("copy", f"{src_registry.host}/ns/app:nope", f"{dst_registry.host}/ns/app:nope")
    assert done.returncode == 1
    assert_one_line_error(done.stderr, f"source image {src_registry.host}/ns/app:nope not found")


def test_help_lists_the_contract_flags() -> None:
    done = run_cli("copy", "--help", env={"COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"})
    assert done.returncode == 0
    for flag in [
        "--platform",
        "--insecure-registry",
        "--src-creds",
        "--dest-creds",
        "--concurrency",
        "--quiet",
        "--json",
    ]:
        assert flag in done.stdout
    assert os.environ.get("REGCOPY_SRC_CREDS") is None
