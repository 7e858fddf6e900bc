"""`regcopy migrate` end to end against the emulated Tencent Cloud, with vendor-style flags."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.seed import fetch_manifest
from tests.servers.tencent import CONFLICT, TencentWorld
from tests.tencent.world import CCR_PASS, CCR_USER, SECRET_KEY, TCR_PASS, TCR_USER, seed_ccr

FINISHED_OK = (
    "################# Finished, 0 transfer jobs failed, 0 normal urlPair generate failed,"
    " 0 jobs generate failed #################"
)


def layout() -> dict[str, int]:
    repos = {}
    for i in range(21):
        namespace = ["team", "infra", "pub-tools"][i % 3]
        repos[f"{namespace}/app{i}"] = 5
    return repos


def test_migrate_end_to_end_with_vendor_flags(tmp_path: Path, world: TencentWorld) -> None:
    seeded = seed_ccr(world, layout(), multiarch=("team/app0", "infra/app1"))
    world.instance.namespaces["team"] = False  # exists already: must not be created again
    report = tmp_path / "report.json"

    done = run_cli(
        *seeded.args(
            "--ccrAuth",
            f"{CCR_USER}:{CCR_PASS}",
            "--tcrAuth",
            f"{TCR_USER}:{TCR_PASS}",
            "--tagNum",
            "3",
            "--report",
            str(report),
        ),
        env=seeded.env,
    )

    assert done.returncode == 0, done.stderr
    assert FINISHED_OK in done.stdout
    assert "migrate: 63 jobs: 63 copied, 0 skipped, 0 failed" in done.stdout
    assert [c for c in world.api.requests if c["action"] == "CreateNamespace"] == [
        {
            "action": "CreateNamespace",
            "params": {"RegistryId": "tcr-0a1b2c3d", "NamespaceName": n, "IsPublic": p},
            "region": "ap-shanghai",
        }
        for n, p in [("infra", False), ("pub-tools", True)]
    ]
    assert sorted(world.instance.repositories) == sorted(layout())
    assert world.instance.repositories["team/app3"] == "about team/app3"
    # exactly the 3 newest tags by push time (v3, v2, v1 were pushed last), byte for byte
    for repository in layout():
        for tag in ["v1", "v2", "v3"]:
            pushed = seeded.images[f"{repository}:{tag}"]
            assert fetch_manifest(world.tcr.host, repository, tag, (TCR_USER, TCR_PASS))[0] == pushed.data
    tags = json.loads(report.read_text())["jobs"]
    assert {j["destination"].rsplit(":", 1)[1] for j in tags} == {"v1", "v2", "v3"}
    assert json.loads(report.read_text())["workflow"]["counts"] == {
        "transfer_failed": 0,
        "urlpair_failed": 0,
        "generate_failed": 0,
    }
    assert SECRET_KEY not in done.stdout + done.stderr + report.read_text()

    again = run_cli(
        *seeded.args("--ccrAuth", f"{CCR_USER}:{CCR_PASS}", "--tcrAuth", f"{TCR_USER}:{TCR_PASS}", "--tagNum", "3"),
        env=seeded.env,
    )
    assert again.returncode == 0, again.stderr
    assert "63 jobs: 0 copied, 63 skipped, 0 failed" in again.stdout
    assert FINISHED_OK in again.stdout


def test_tag_num_zero_means_all_tags_and_instance_token_is_used(tmp_path: Path, world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 4, "infra/db": 2})
    done = run_cli(*seeded.args("--tag-num", "0"), env={**seeded.env, "REGCOPY_CCR_AUTH": f"{CCR_USER}:{CCR_PASS}"})
    assert done.returncode == 0, done.stderr
    assert "6 jobs: 6 copied" in done.stdout
    assert world.api.calls["CreateInstanceToken"] == 1  # no --tcr-auth: a temporary instance token


def test_missing_instance_lists_the_existing_ones(world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 1})
    args = seeded.args()
    args[args.index("--tcrName") + 1] = "pro"  # the cloud's fuzzy filter finds "prod"; an exact match does not
    done = run_cli(*args, env=seeded.env)
    assert done.returncode == 1
    assert "regcopy: error: TCR instance 'pro' not found in region ap-shanghai; instances there: prod" in done.stderr
    assert "Traceback" not in done.stderr


def test_wrong_secret_key(world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 1})
    done = run_cli(*seeded.args(), env={**seeded.env, "TENCENTCLOUD_SECRET_KEY": "wrong-key-value-42"})
    assert done.returncode == 1
    assert "AuthFailure.SignatureFailure" in done.stderr and "RequestId" in done.stderr
    assert "check the SecretId and SecretKey" in done.stderr
    assert "wrong-key-value-42" not in done.stderr + done.stdout


def test_throttled_page_and_create_conflict_are_absorbed(world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 2, "infra/db": 1})
    world.api.faults["DescribeRepositoryOwnerPersonal"] = ["RequestLimitExceeded"]
    world.api.faults["DescribeImagePersonal"] = ["RequestLimitExceeded.UinLimitExceeded"]
    world.api.faults["CreateRepository"] = ["FailedOperation.ErrorTcrResourceConflict"]
    done = run_cli(
        *seeded.args(),
        env={**seeded.env, "REGCOPY_CCR_AUTH": f"{CCR_USER}:{CCR_PASS}", "REGCOPY_TCR_AUTH": f"{TCR_USER}:{TCR_PASS}"},
    )
    assert done.returncode == 0, done.stderr
    assert FINISHED_OK in done.stdout
    assert world.api.calls["DescribeRepositoryOwnerPersonal"] == 2


def test_names_tcr_rejects_are_reported_and_fail_the_run(world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 1, "x/tool": 1})  # a one-letter namespace: TCR needs 2-30
    done = run_cli(
        *seeded.args(),
        env={**seeded.env, "REGCOPY_CCR_AUTH": f"{CCR_USER}:{CCR_PASS}", "REGCOPY_TCR_AUTH": f"{TCR_USER}:{TCR_PASS}"},
    )
    assert done.returncode == 1
    assert "Finished, 0 transfer jobs failed, 0 normal urlPair generate failed, 1 jobs generate failed" in done.stdout
    assert "x/tool" in done.stderr and "must be 2-30 characters" in done.stderr
    assert "x" not in world.instance.namespaces
    assert fetch_manifest(world.tcr.host, "team/web", "v1", (TCR_USER, TCR_PASS))[0]


def test_failed_tag_listing_counts_as_urlpair_failure(world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 1, "team/api": 1})
    world.api.faults["DescribeImagePersonal"] = ["ResourceNotFound"]
    done = run_cli(
        *seeded.args(),
        env={**seeded.env, "REGCOPY_CCR_AUTH": f"{CCR_USER}:{CCR_PASS}", "REGCOPY_TCR_AUTH": f"{TCR_USER}:{TCR_PASS}"},
    )
    assert done.returncode == 1
    assert "0 transfer jobs failed, 1 normal urlPair generate failed, 0 jobs generate failed" in done.stdout


def test_push_without_provisioning_is_denied(world: TencentWorld, tmp_path: Path) -> None:
    """TCR refuses pushes into namespaces not created through the API, so skipping provisioning fails."""
    seed_ccr(world, {"team/web": 1})
    config = tmp_path / "sync.json"
    config.write_text(
        json.dumps(
            {
                "registries": {
                    world.ccr.host: {"credentials_env": "CCR_LOGIN"},
                    world.tcr.host: {"credentials_env": "TCR_LOGIN"},
                },
                "jobs": [{"source": f"{world.ccr.host}/team/web:v1", "destination": f"{world.tcr.host}/team/web:v1"}],
            }
        )
    )
    done = run_cli(
        "sync",
        str(config),
        "--no-cache",
        "--retries",
        "1",
        env={"CCR_LOGIN": f"{CCR_USER}:{CCR_PASS}", "TCR_LOGIN": f"{TCR_USER}:{TCR_PASS}"},
    )
    assert done.returncode == 1
    assert "1 jobs: 0 copied, 0 skipped, 1 failed" in done.stdout
    assert "UNAUTHORIZED" in done.stderr or "DENIED" in done.stderr


def test_dry_run_changes_nothing(world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 3, "x/bad": 1})
    done = run_cli(
        *seeded.args("--tagNum", "2", "--dry-run"),
        env={**seeded.env, "REGCOPY_CCR_AUTH": f"{CCR_USER}:{CCR_PASS}", "REGCOPY_TCR_AUTH": f"{TCR_USER}:{TCR_PASS}"},
    )
    assert done.returncode == 0, done.stderr
    assert "namespace team (private)" in done.stdout
    assert "cannot migrate x/bad: namespace 'x' must be 2-30 characters long" in done.stdout
    assert f"copy {world.ccr.host}/team/web:v1 -> {world.tcr.host}/team/web:v1 (missing)" in done.stdout
    assert "team/web:v3" not in done.stdout  # the oldest of three with --tagNum 2
    assert world.instance.namespaces == {} and world.instance.repositories == {}
    assert world.api.calls["CreateNamespace"] == 0 and world.api.calls["CreateInstanceToken"] == 0


def test_invalid_tag_num_is_a_one_line_usage_error(world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 1})
    for value, needle in (("-3", "invalid --tag-num -3"), ("many", "Invalid value for '--tag-num'")):
        done = run_cli(*seeded.args("--tagNum", value), env=seeded.env)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and needle in done.stderr and "Traceback" not in done.stderr


def test_retries_below_one_is_a_usage_error_for_migrate_and_sync(tmp_path: Path, world: TencentWorld) -> None:
    seeded = seed_ccr(world, {"team/web": 1})
    config = tmp_path / "sync.yaml"
    config.write_text("jobs:\n  - source: 127.0.0.1:1/a/b:v1\n    destination: 127.0.0.1:1/c/d:v1\n")
    for done in (
        run_cli(*seeded.args("--retries", "0"), env=seeded.env),
        run_cli("sync", str(config), "--retries", "0"),
    ):
        assert done.returncode == 2
        assert done.stderr == "regcopy: error: --retries must be at least 1\n"
    assert world.api.calls["DescribeInstances"] == 0


def test_retry_failed_reruns_only_what_failed_and_secrets_stay_out_of_debug_output(
    tmp_path: Path, world: TencentWorld
) -> None:
    seeded = seed_ccr(world, {"team/web": 2, "team/api": 3, "infra/db": 1})
    world.api.faults["DescribeImagePersonal"] = ["ResourceNotFound"]  # one repository's tags cannot be listed
    world.api.faults["CreateNamespace"] = [CONFLICT]  # answered "exists" though it does not: must not be trusted
    env = {**seeded.env, "REGCOPY_CCR_AUTH": f"{CCR_USER}:{CCR_PASS}", "REGCOPY_TCR_AUTH": f"{TCR_USER}:{TCR_PASS}"}
    report = tmp_path / "report.json"

    first = run_cli(*seeded.args("--report", str(report), "-vv"), env=env)

    assert first.returncode == 1
    assert "1 normal urlPair generate failed" in first.stdout
    retried = {f["job"]["repository"] for f in json.loads(report.read_text())["plan_failures"]}
    assert len(retried) >= 2  # the unlisted repository, and those of the namespace that was not created
    expected = sum({"team/web": 2, "team/api": 3, "infra/db": 1}[r] for r in retried)
    retry = tmp_path / "retry.json"
    second = run_cli(*seeded.args("--retry-failed", str(report), "--report", str(retry), "-vv"), env=env)
    assert second.returncode == 0, second.stderr
    assert f"migrate: {expected} jobs: {expected} copied" in second.stdout
    for text in (first.stdout, first.stderr, second.stdout, second.stderr, report.read_text(), retry.read_text()):
        for secret in (SECRET_KEY, CCR_PASS, TCR_PASS):
            assert secret not in text
