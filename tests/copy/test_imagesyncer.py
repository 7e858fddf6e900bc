"""image-syncer's images/auth files, in the forms its README documents, drive a real sync."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import PASSWORD, USER, run_cli
from tests.seed import fetch_manifest
from tests.servers.registry import RegistryServer


def test_image_syncer_files(
    tmp_path: Path, basic_registry: RegistryServer, dst_registry: RegistryServer, seeder_for
) -> None:  # type: ignore[no-untyped-def]
    seeder = seeder_for(basic_registry, (USER, PASSWORD))
    app = {tag: seeder.push_image("coreos/kube-rbac-proxy", tag) for tag in ["v1.0", "v1.1", "v2.0", "latest"]}
    other = seeder.push_image("coreos/etcd", "v3.5")
    src, dst = basic_registry.host, dst_registry.host
    images = tmp_path / "images.yaml"
    images.write_text(
        f"{src}/coreos/kube-rbac-proxy: {dst}/all/kube-rbac-proxy\n\n"
        f"{src}/coreos/kube-rbac-proxy:v1.0: {dst}/one/kube-rbac-proxy\n\n"
        f"{src}/coreos/kube-rbac-proxy:v1.0,v2.0: {dst}/two/kube-rbac-proxy\n\n"
        f"{src}/coreos/kube-rbac-proxy@{app['v1.1'].digest}: {dst}/digest/kube-rbac-proxy\n"
        f"{src}/coreos/kube-rbac-proxy:/^v1\\./: {dst}/regex/kube-rbac-proxy\n"
        f"{src}/coreos/etcd:v3.5:\n  - {dst}/fan1/etcd\n  - {dst}/fan2/etcd\n"
        f'"{src}/coreos/etcd": ""\n'
    )
    auth = tmp_path / "auth.yaml"
    auth.write_text(
        f"{src}:\n  username: nobody\n  password: wrong\n"
        f"{src}/coreos:\n  username: $SYNC_USER\n  password: ${{SYNC_PASS}}\n  insecure: true\n"
    )
    report = tmp_path / "report.json"

    done = run_cli(
        "sync",
        "--images",
        str(images),
        "--auth",
        str(auth),
        "--report",
        str(report),
        "--registry",
        dst,
        "--namespace",
        "defaults",
        "--no-cache",
        env={"SYNC_USER": USER, "SYNC_PASS": PASSWORD},
    )

    assert done.returncode == 0, done.stderr
    jobs = {(j["source"], j["destination"]) for j in json.loads(report.read_text())["jobs"]}
    expected = {
        *((f"{src}/coreos/kube-rbac-proxy:{t}", f"{dst}/all/kube-rbac-proxy:{t}") for t in app),
        (f"{src}/coreos/kube-rbac-proxy:v1.0", f"{dst}/one/kube-rbac-proxy:v1.0"),
        (f"{src}/coreos/kube-rbac-proxy:v1.0", f"{dst}/two/kube-rbac-proxy:v1.0"),
        (f"{src}/coreos/kube-rbac-proxy:v2.0", f"{dst}/two/kube-rbac-proxy:v2.0"),
        (f"{src}/coreos/kube-rbac-proxy@{app['v1.1'].digest}", f"{dst}/digest/kube-rbac-proxy"),
        (f"{src}/coreos/kube-rbac-proxy:v1.0", f"{dst}/regex/kube-rbac-proxy:v1.0"),
        (f"{src}/coreos/kube-rbac-proxy:v1.1", f"{dst}/regex/kube-rbac-proxy:v1.1"),
        (f"{src}/coreos/etcd:v3.5", f"{dst}/fan1/etcd:v3.5"),
        (f"{src}/coreos/etcd:v3.5", f"{dst}/fan2/etcd:v3.5"),
        (f"{src}/coreos/etcd:v3.5", f"{dst}/defaults/etcd:v3.5"),
    }
    assert jobs == expected
    assert fetch_manifest(dst, "digest/kube-rbac-proxy", app["v1.1"].digest)[0] == app["v1.1"].data
    assert fetch_manifest(dst, "fan2/etcd", "v3.5")[0] == other.data
    assert PASSWORD not in done.stdout + done.stderr + report.read_text()


def test_missing_env_in_auth_file_is_named(tmp_path: Path) -> None:
    images = tmp_path / "images.yaml"
    images.write_text("127.0.0.1:1/a/b:v1: 127.0.0.1:2/a/b\n")
    auth = tmp_path / "auth.yaml"
    auth.write_text("127.0.0.1:1:\n  username: u\n  password: ${NOT_SET_ANYWHERE}\n")
    done = run_cli("sync", "--images", str(images), "--auth", str(auth))
    assert done.returncode == 2
    assert "environment variable NOT_SET_ANYWHERE is not set" in done.stderr
