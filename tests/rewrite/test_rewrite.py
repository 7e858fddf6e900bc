"""``regcopy rewrite`` and ``regcopy pull-secret`` over a corpus of realistic manifests.

The corpus (``corpus/``) holds a rendered Helm chart, kustomize output, a Helm
values file, a compose file and a file that is not valid YAML. Every test runs
the real CLI on a copy of it and checks the exact lines that change and that
every other byte stays as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.seed import Seeder
from tests.servers.registry import RegistryServer

CORPUS = Path(__file__).parent / "corpus"
CCR, TCR = "ccr.ccs.tencentyun.com", "inst.tencentcloudcr.com"


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


MIGRATED = {  # source repository:tag -> manifest digest
    "shop/api:2.3.1": digest("api"),
    "shop/report:latest": digest("report"),
    "shop/cache:7.2": digest("cache"),
    "shop/agent:1.0": digest("agent"),
    "shop/worker:1.8.0": digest("worker"),
    "shop/sidecar:3.0": digest("sidecar"),
    "ops/toolbox:1.0": digest("toolbox"),
    "ops/seed:2024.05": digest("seed"),
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(CORPUS, target)
    for path in target.iterdir():
        text = (
            path.read_text().replace("CACHE_DIGEST", digest("cache")[7:]).replace("AGENT_DIGEST", digest("agent")[7:])
        )
        path.write_text(text)
    return target


@pytest.fixture
def report(tmp_path: Path) -> Path:
    jobs = [
        {"source": f"{CCR}/{ref}", "destination": f"{TCR}/{ref}", "status": "copied", "digest": d}
        for ref, d in MIGRATED.items()
    ]
    jobs.append({"source": f"{CCR}/shop/agent:0.9", "destination": f"{TCR}/shop/agent:0.9", "status": "failed"})
    path = tmp_path / "migrate-report.json"
    path.write_text(json.dumps({"kind": "regcopy-sync-report", "jobs": jobs}))
    return path


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """Pairs of (old line, new line); also asserts that nothing else changed, line count included."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return [(a.rstrip("\n"), b.rstrip("\n")) for a, b in zip(old, new, strict=True) if a != b]


def snapshot(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.iterdir())}


def test_rewrites_exactly_the_migrated_references_and_keeps_every_other_byte(corpus: Path, report: Path) -> None:
    before = snapshot(corpus)
    done = run_cli("rewrite", str(corpus), "--report", str(report), "--in-place")
    assert done.returncode == 0, done.stderr
    after = snapshot(corpus)

    assert changed_lines(before["helm-rendered.yaml"], after["helm-rendered.yaml"]) == [
        (f'          image: "{CCR}/shop/api:2.3.1"', f'          image: "{TCR}/shop/api:2.3.1"'),
        (f'          image: "{CCR}/shop/api:2.3.1"', f'          image: "{TCR}/shop/api:2.3.1"'),
        (
            f"              image: {CCR}/shop/report   # no tag: latest",
            f"              image: {TCR}/shop/report   # no tag: latest",
        ),
        (
            f"          image: {CCR}/shop/cache:7.2@{digest('cache')}",
            f"          image: {TCR}/shop/cache:7.2@{digest('cache')}",
        ),
        (
            f"          image: {CCR}/shop/agent@{digest('agent')}",
            f"          image: {TCR}/shop/agent@{digest('agent')}",
        ),
    ]
    assert changed_lines(before["kustomize-output.yaml"], after["kustomize-output.yaml"]) == [
        (f"  - image: {CCR}/ops/toolbox:1.0", f"  - image: {TCR}/ops/toolbox:1.0"),
        (f"      - image: '{CCR}/ops/seed:2024.05'", f"      - image: '{TCR}/ops/seed:2024.05'"),
        (
            f"      - {{name: a, image: {CCR}/ops/toolbox:1.0}}",
            f"      - {{name: a, image: {TCR}/ops/toolbox:1.0}}",
        ),
    ]
    assert changed_lines(before["values.yaml"], after["values.yaml"]) == [
        (f"  repository: {CCR}/shop/api", f"  repository: {TCR}/shop/api"),
        (f"    registry: {CCR}", f"    registry: {TCR}"),
        (f"  image: {CCR}/shop/sidecar:3.0", f"  image: {TCR}/shop/sidecar:3.0"),
        (f"  image: {CCR}/shop/report:latest", f"  image: {TCR}/shop/report:latest"),  # the anchor, once
    ]
    assert changed_lines(before["docker-compose.yml"], after["docker-compose.yml"]) == [
        (f"    image: {CCR}/shop/api:2.3.1", f"    image: {TCR}/shop/api:2.3.1"),
        (f'    image: "{CCR}/shop/cache:7.2"', f'    image: "{TCR}/shop/cache:7.2"'),
    ]
    assert after["broken.yaml"] == before["broken.yaml"]

    errors = done.stderr.splitlines()
    assert f"not migrated: {corpus}/helm-rendered.yaml:89: {CCR}/shop/agent:0.9 (not in the report or map)" in errors
    assert f"note: {corpus}/broken.yaml: left untouched, not valid YAML at line 2" in errors
    assert not any("toolbox" in line and "not migrated" in line for line in errors), "look-alikes are never listed"
    assert errors[-1] == "rewrite: 14 references rewritten in 4 of 5 files, 0 pull secrets replaced, 1 not migrated"


def test_default_is_a_diff_and_check_fails_until_applied(corpus: Path, report: Path) -> None:
    before = snapshot(corpus)
    diff = run_cli("rewrite", str(corpus / "docker-compose.yml"), "--report", str(report))
    assert diff.returncode == 0
    assert f"-    image: {CCR}/shop/api:2.3.1\n+    image: {TCR}/shop/api:2.3.1\n" in diff.stdout
    assert snapshot(corpus) == before, "a diff run writes nothing"

    check = run_cli("rewrite", str(corpus), "--report", str(report), "--check")
    assert check.returncode == 1
    assert f"+    image: {TCR}/shop/api:2.3.1" in check.stdout
    assert snapshot(corpus) == before

    assert run_cli("rewrite", str(corpus), "--report", str(report), "--in-place").returncode == 0
    again = run_cli("rewrite", str(corpus), "--report", str(report), "--check")
    assert again.returncode == 0, again.stdout
    assert again.stdout == ""


def test_pin_digest_and_out_directory(corpus: Path, report: Path, tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    done = run_cli("rewrite", str(corpus), "--report", str(report), "--pin-digest", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in corpus.iterdir())
    compose = (out / "docker-compose.yml").read_text()
    assert f"image: {TCR}/shop/api:2.3.1@{digest('api')}" in compose
    values = (out / "values.yaml").read_text()
    assert f'  tag: "2.3.1@{digest("api")}"       # keep in step with appVersion' in values
    assert f"    tag: 1.8.0@{digest('worker')}" in values
    report_line = f"              image: {TCR}/shop/report@{digest('report')}   # no tag: latest"
    assert report_line in (out / "helm-rendered.yaml").read_text()
    assert (corpus / "docker-compose.yml").read_text() == (CORPUS / "docker-compose.yml").read_text()


def test_pull_secret_is_replaced_only_where_everything_was_migrated(corpus: Path, report: Path) -> None:
    before = snapshot(corpus)
    done = run_cli(
        "rewrite", str(corpus), "--report", str(report), "--pull-secret", "tcr-pull", "--replace-secret", "old-key",
        "--in-place",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    after = snapshot(corpus)
    secret_lines = [
        pair
        for pair in changed_lines(before["helm-rendered.yaml"], after["helm-rendered.yaml"])
        if "image:" not in pair[0]
    ]
    assert secret_lines == [
        ("  - name: qcloudregistrykey", "  - name: tcr-pull"),  # the ServiceAccount
        ("        - name: qcloudregistrykey", "        - name: tcr-pull"),  # the Deployment
        (
            "          imagePullSecrets: [{name: qcloudregistrykey}]",
            "          imagePullSecrets: [{name: tcr-pull}]",
        ),  # the CronJob
    ]
    assert "  - tcr-pull\n" in after["values.yaml"]
    assert "rewrite: 14 references rewritten in 4 of 5 files, 4 pull secrets replaced" in done.stderr


def test_a_pod_that_still_pulls_an_unmigrated_image_keeps_its_secret(tmp_path: Path, report: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "kind: Pod\nspec:\n  imagePullSecrets:\n  - name: qcloudregistrykey\n  containers:\n"
        f"  - image: {CCR}/shop/api:2.3.1\n  - image: {CCR}/shop/agent:0.9\n"
    )
    done = run_cli("rewrite", str(manifest), "--report", str(report), "--pull-secret", "tcr-pull", "--in-place")
    assert done.returncode == 0
    text = manifest.read_text()
    assert "- name: qcloudregistrykey" in text and f"- image: {TCR}/shop/api:2.3.1" in text
    assert f"kept pull secret qcloudregistrykey: this pod still pulls {CCR}/shop/agent:0.9" in done.stderr


def test_map_file_with_whole_repositories(tmp_path: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(f"containers:\n- image: {CCR}/team/web:9.9\n- image: {CCR}/team/api:1\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(f"{CCR}/team/web: custom.example.com/platform/team/web\n")
    done = run_cli("rewrite", str(manifest), "--map", str(mapping), "--in-place")
    assert done.returncode == 0, done.stderr
    assert manifest.read_text() == (
        f"containers:\n- image: custom.example.com/platform/team/web:9.9\n- image: {CCR}/team/api:1\n"
    )
    assert f"not migrated: {manifest}:3: {CCR}/team/api:1" in done.stderr


def test_from_to_needs_proof_and_verify_asks_the_destination(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer
) -> None:
    pushed = Seeder(dst_registry.host).push_image("team/web", "v1")
    manifest = tmp_path / "deploy.yaml"
    original = f"containers:\n- image: {src_registry.host}/team/web:v1\n- image: {src_registry.host}/team/gone:v1\n"
    manifest.write_text(original)
    rule = ["--from", src_registry.host, "--to", dst_registry.host]

    unproven = run_cli("rewrite", str(manifest), *rule, "--in-place")
    assert unproven.returncode == 0
    assert manifest.read_text() == original, "a prefix rule alone proves nothing"
    assert unproven.stderr.count("(not in the report or map)") == 2

    verified = run_cli("rewrite", str(manifest), *rule, "--verify", "--pin-digest", "--in-place")
    assert verified.returncode == 0, verified.stderr
    assert manifest.read_text() == (
        f"containers:\n- image: {dst_registry.host}/team/web:v1@{pushed.digest}\n"
        f"- image: {src_registry.host}/team/gone:v1\n"
    )
    assert f"{src_registry.host}/team/gone:v1 (not found at the destination)" in verified.stderr


def test_a_real_sync_report_drives_the_rewrite(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer
) -> None:
    pushed = Seeder(src_registry.host).push_image("team/web", "v1")
    config = tmp_path / "sync.json"
    config.write_text(
        json.dumps(
            {"jobs": [{"source": f"{src_registry.host}/team/web:v1", "destination": f"{dst_registry.host}/t/web:v1"}]}
        )
    )
    report = tmp_path / "report.json"
    assert run_cli("sync", str(config), "--no-cache", "--report", str(report)).returncode == 0
    values = tmp_path / "values.yaml"
    values.write_text(f"image:\n  repository: {src_registry.host}/team/web\n  tag: v1\n")
    done = run_cli("rewrite", str(values), "--report", str(report), "--pin-digest", "--in-place")
    assert done.returncode == 0, done.stderr
    assert values.read_text() == f"image:\n  repository: {dst_registry.host}/t/web\n  tag: v1@{pushed.digest}\n"


def test_usage_errors_are_one_line(tmp_path: Path, report: Path) -> None:
    manifest = tmp_path / "x.yaml"
    manifest.write_text("image: a/b:c\n")
    for args, needle in [
        ([str(manifest)], "nothing says what was migrated"),
        ([str(manifest), "--from", CCR], "--from and --to come in pairs"),
        ([str(manifest), "--from", "https://x", "--to", TCR], "invalid --from"),
        ([str(manifest), "--report", str(manifest)], "is not a regcopy sync or migrate report"),
        ([str(tmp_path / "missing.yaml"), "--report", str(report)], "no such file or directory"),
    ]:
        done = run_cli("rewrite", *args)
        assert done.returncode in (1, 2), args
        assert done.stderr.count("\n") == 1 and needle in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_pull_secret_manifest(tmp_path: Path) -> None:
    password = "tcr-p4ss-w0rd-secret"
    done = run_cli(
        "pull-secret", "--registry", TCR, "--username", "100012345678", "--namespace", "shop",
        env={"REGCOPY_PULL_PASSWORD": password},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:6] == [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: tcr-pull-secret",
        "  namespace: shop",
        "type: kubernetes.io/dockerconfigjson",
    ]
    encoded = lines[-1].split(": ", 1)[1]
    config = json.loads(base64.b64decode(encoded))
    entry = config["auths"][TCR]
    assert entry["username"] == "100012345678" and entry["password"] == password
    assert base64.b64decode(entry["auth"]).decode() == f"100012345678:{password}"
    assert password not in done.stderr

    piped = run_cli("pull-secret", "--registry", TCR, "--username", "u", "--password-stdin", input="from-stdin\n")
    assert piped.returncode == 0
    config = json.loads(base64.b64decode(piped.stdout.splitlines()[-1].split(": ", 1)[1]))
    assert config["auths"][TCR]["password"] == "from-stdin"

    empty = run_cli("pull-secret", "--registry", TCR, "--username", "u", "--password-stdin")
    assert empty.returncode == 2 and "a pull secret needs both" in empty.stderr
