"""Scale-out: ``--shard I/N`` and ``auto``, shard processes side by side, ``report merge``, the Kubernetes manifests."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from regcopy.copy.merge import merge_reports
from regcopy.copy.models import JobOutcome, SyncReport
from regcopy.copy.shard import Shard, ShardError
from tests.conftest import run_cli, start_cli
from tests.seed import Seeder
from tests.servers.registry import RegistryServer
from tests.servers.tencent import TencentWorld
from tests.tencent.world import CCR_PASS, CCR_USER, TCR_PASS, TCR_USER, seed_ccr

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes"
FINISHED_OK = (
    "################# Finished, 0 transfer jobs failed, 0 normal urlPair generate failed,"
    " 0 jobs generate failed #################"
)


def test_shard_values() -> None:
    assert Shard.parse("0/4") == Shard(0, 4) and Shard.parse("3/4") == Shard(3, 4)
    for bad in ["4/4", "1", "a/b", "-1/3", "0/0"]:
        with pytest.raises(ShardError):
            Shard.parse(bad)
    assert Shard.parse("auto", {"JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "5"}) == Shard(2, 5)
    with pytest.raises(ShardError, match="JOB_COMPLETIONS"):
        Shard.parse("auto", {"JOB_COMPLETION_INDEX": "2"})


def test_every_repository_has_exactly_one_shard_whatever_the_order() -> None:
    repositories = [f"team{i % 7}/app{i}" for i in range(500)]
    for count in (1, 2, 3, 8):
        shards = [Shard(i, count) for i in range(count)]
        owners = {r: [s.index for s in shards if s.owns("tcr.example.com", r)] for r in reversed(repositories)}
        assert all(len(o) == 1 for o in owners.values())
        if count > 1:
            sizes = [sum(1 for o in owners.values() if o == [i]) for i in range(count)]
            assert min(sizes) > len(repositories) / count / 2, sizes  # roughly even
    assert Shard(1, 3).owns("tcr.example.com", "team1/app1") == Shard(1, 3).owns("tcr.example.com", "team1/app1")


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def test_sync_shards_side_by_side_do_every_job_exactly_once(
    tmp_path: Path, src_registry: RegistryServer, dst_registry: RegistryServer
) -> None:
    seeder = Seeder(src_registry.host)
    base = [b"shared-base-layer" * 1000]
    for r in range(12):
        for t in range(2):
            seeder.push_image(f"team/app{r}", f"v{t}", layers=[*base, os.urandom(500)])
    seeder.close()
    config = tmp_path / "sync.json"
    config.write_text(
        json.dumps({"jobs": [{"source": f"{src_registry.host}/team/", "destination": f"{dst_registry.host}/copy/"}]})
    )
    cache = tmp_path / "cache"  # one blob cache shared by all shard processes
    reports = [tmp_path / f"shard-{i}.json" for i in range(3)]
    processes = [
        start_cli("sync", str(config), "--shard", f"{i}/3", "--report", str(reports[i]), "--cache-dir", str(cache))
        for i in range(3)
    ]
    for process in processes:
        code, _, err = finish(process)
        assert code == 0, err

    seen: list[str] = []
    for index, path in enumerate(reports):
        report = json.loads(path.read_text())
        assert report["workflow"]["shard"] == f"{index}/3"
        for job in report["jobs"]:
            repository = job["destination"].split("/", 1)[1].rsplit(":", 1)[0]
            assert Shard(index, 3).owns(dst_registry.host, repository), job
            seen.append(job["destination"])
    assert len(seen) == len(set(seen)) == 24
    assert set(seen) == {f"{dst_registry.host}/copy/app{r}:v{t}" for r in range(12) for t in range(2)}

    merged = tmp_path / "merged.json"
    done = run_cli("report", "merge", *map(str, reports), "--output", str(merged))
    assert done.returncode == 0, done.stderr
    assert "merged 3 reports (shards 0/3, 1/3, 2/3):" in done.stdout
    assert "report: 24 jobs: 24 copied, 0 skipped, 0 failed" in done.stdout
    verified = run_cli("verify", str(merged))
    assert verified.returncode == 0 and "24 checked, 24 identical, 0 different" in verified.stdout

    auto = run_cli(
        "sync", str(config), "--shard", "auto", "--dry-run", env={"JOB_COMPLETION_INDEX": "1", "JOB_COMPLETIONS": "3"}
    )
    explicit = run_cli("sync", str(config), "--shard", "1/3", "--dry-run")
    assert auto.returncode == explicit.returncode == 0
    assert auto.stdout == explicit.stdout
    assert f"{len(json.loads(reports[1].read_text())['jobs'])} jobs: 0 to copy" in auto.stdout


def test_migrate_provision_once_then_shards(tmp_path: Path, world: TencentWorld) -> None:
    layout = {f"{ns}/app{i}": 2 for i, ns in enumerate(["team", "infra", "pub-tools"] * 3)}
    seeded = seed_ccr(world, layout, multiarch=("team/app0",))
    logins = {"REGCOPY_CCR_AUTH": f"{CCR_USER}:{CCR_PASS}", "REGCOPY_TCR_AUTH": f"{TCR_USER}:{TCR_PASS}"}
    env = {**seeded.env, **logins}

    provision = run_cli(*seeded.args("--provision-only"), env=env)
    assert provision.returncode == 0, provision.stderr
    assert "provisioned: 3 namespaces, 9 repositories created" in provision.stdout
    assert world.api.calls.get("DescribeImagePersonal", 0) == 0, "provisioning lists no tags"

    reports = [tmp_path / f"shard-{i}.json" for i in range(2)]
    processes = [
        start_cli(*seeded.args("--shard", f"{i}/2", "--skip-provision", "--report", str(reports[i])), env=env)
        for i in range(2)
    ]
    for process in processes:
        code, out, err = finish(process)
        assert code == 0, err
        assert FINISHED_OK in out
    assert world.api.calls["CreateNamespace"] == 3 and world.api.calls["CreateRepository"] == 9
    assert world.api.calls["DescribeImagePersonal"] == 9, "each repository's tags are listed by one shard only"

    done = run_cli("report", "merge", *map(str, reports), "--output", str(tmp_path / "merged.json"), env=env)
    assert done.returncode == 0, done.stderr
    assert FINISHED_OK in done.stdout
    assert "report: 18 jobs: 18 copied, 0 skipped, 0 failed" in done.stdout
    verified = run_cli("verify", str(tmp_path / "merged.json"), env=env)  # logins from REGCOPY_*_AUTH
    assert verified.returncode == 0 and "18 checked, 18 identical" in verified.stdout, verified.stdout


def test_merge_keeps_the_best_outcome_and_adds_up_counts() -> None:
    def report(shard: str, status: str, failed: int) -> SyncReport:
        job = JobOutcome(source="s/a:1", destination="d/a:1", status=status)  # type: ignore[arg-type]
        counts = {"transfer_failed": failed, "urlpair_failed": 0, "generate_failed": 1}
        return SyncReport(
            jobs=[job],
            workflow={"kind": "ccr-to-tcr", "shard": shard, "namespaces_created": [shard], "counts": counts},
        )

    merged = merge_reports([report("0/2", "failed", 1), report("1/2", "copied", 0)])
    assert [j.status for j in merged.jobs] == ["copied"]
    assert merged.summary.copied == 1 and merged.summary.failed == 0
    assert merged.workflow["counts"] == {"transfer_failed": 1, "urlpair_failed": 0, "generate_failed": 2}
    assert merged.workflow["namespaces_created"] == ["0/2", "1/2"]
    assert merged.workflow["merged_shards"] == ["0/2", "1/2"]


def manifests() -> list[tuple[str, dict[str, object]]]:
    found = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            found.append((path.name, document))
    return found


@pytest.mark.parametrize("name,resource", manifests(), ids=[n for n, _ in manifests()])
def test_manifests_validate_against_the_kubernetes_schema(name: str, resource: dict[str, object]) -> None:
    kubernetes_validate.validate(resource, "1.30", strict=True)


def test_the_indexed_job_and_the_secret_match_what_regcopy_reads() -> None:
    job = yaml.safe_load((DEPLOY / "migrate-job.yaml").read_text())
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["JOB_COMPLETIONS"] == str(spec["completions"]), "--shard auto reads the count from JOB_COMPLETIONS"
    assert "--shard=auto" in container["args"] and "--skip-provision" in container["args"]
    secret = yaml.safe_load((DEPLOY / "secret.yaml").read_text())
    assert set(secret["stringData"]) == {
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "REGCOPY_CCR_AUTH",
        "REGCOPY_TCR_AUTH",
    }
    provision = yaml.safe_load((DEPLOY / "provision-job.yaml").read_text())
    assert "--provision-only" in provision["spec"]["template"]["spec"]["containers"][0]["args"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "--constraint requirements.lock" in dockerfile and 'ENTRYPOINT ["regcopy"]' in dockerfile
