"""A rehearsal CCR -> TCR migration on this machine, run by ``scripts/rehearsal.sh``.

Starts an emulated Tencent Cloud API (TC3 signatures checked) and two local
registries fronted as CCR and TCR (token auth; TCR refuses pushes into
namespaces not created through the API), seeds a small CCR with several
namespaces, single and multi-platform images and distinct push times, then runs
``regcopy migrate`` with the vendor tool's own flags, ``regcopy verify`` on the
report, and the migration once more to show that a rerun moves nothing.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.seed import Seeder
from tests.servers.tencent import CCRRepo, TencentWorld, start_world

SECRET_ID, SECRET_KEY = "AKIDrehearsal000000000001", "rehearsal-secret-key-0000000000"
CCR_LOGIN, TCR_LOGIN = ("100012345678", "ccr-rehearsal-pass"), ("tcr-rehearsal", "tcr-rehearsal-pass")
LAYOUT = {
    "frontend/web": 4,
    "frontend/admin": 3,
    "backend/api": 5,
    "backend/worker": 2,
    "base/python": 3,
    "base/nginx": 2,
}
MULTIARCH = {"base/python", "backend/api"}


def regcopy(*args: str, env: dict[str, str] | None = None) -> int:
    """Run the real command line, echoing it with secrets masked."""
    previous = ("", *args[:-1])
    shown = ["***" if flag.endswith(("SecretKey", "Auth")) else arg for flag, arg in zip(previous, args, strict=True)]
    print("$ regcopy " + " ".join(shown), flush=True)
    return subprocess.run(
        [sys.executable, "-m", "regcopy.cli", *args], check=False, env={**os.environ, **(env or {})}
    ).returncode


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="regcopy-rehearsal-") as tmp:
        root = Path(tmp)
        world = start_world(
            root,
            keys={SECRET_ID: SECRET_KEY},
            ccr_user=CCR_LOGIN,
            tcr_user=TCR_LOGIN,
            instance_name="rehearsal",
            tcr_region="ap-shanghai",
        )
        try:
            seeder = Seeder(world.ccr.host, CCR_LOGIN)
            minute = 0
            for repository, tags in LAYOUT.items():
                entry = world.api.ccr.setdefault(repository, CCRRepo(public=repository.startswith("base/")))
                for index in range(tags):
                    tag = f"1.{index}"
                    if repository in MULTIARCH:
                        seeder.push_index(repository, tag, [("linux", "amd64", None), ("linux", "arm64", "v8")])
                    else:
                        seeder.push_image(repository, tag, layer_sizes=(400_000, 20_000))
                    entry.tags[tag] = f"2024-05-01 08:{minute:02d}:00 +0800 CST"
                    minute += 1
            seeder.close()
            print(
                f"emulated CCR at {world.ccr.host}: {len(LAYOUT)} repositories, {sum(LAYOUT.values())} tags;"
                f" TCR instance 'rehearsal' at {world.tcr.host}; Tencent Cloud API at {world.api.url}"
            )
            report = root / "report.json"
            migrate = [
                "migrate",
                "--tcrName",
                "rehearsal",
                "--ccrRegionName",
                "ap-guangzhou",
                "--tcrRegionName",
                "ap-shanghai",
                "--ccrAuth",
                ":".join(CCR_LOGIN),
                "--tcrAuth",
                ":".join(TCR_LOGIN),
                "--ccrSecretId",
                SECRET_ID,
                "--ccrSecretKey",
                SECRET_KEY,
                "--tcrSecretId",
                SECRET_ID,
                "--tcrSecretKey",
                SECRET_KEY,
                "--tagNum",
                "3",
                "--ccr-endpoint",
                world.ccr.host,
                "--tcr-endpoint",
                world.tcr.host,
                "--api-endpoint",
                world.api.url,
                "--cache-dir",
                str(root / "cache"),
            ]
            if regcopy(*migrate, "--report", str(report)) != 0:
                return 1
            # verify finds the registry logins where docker keeps them
            if regcopy("verify", str(report), env={"DOCKER_CONFIG": str(_docker_config(root, world))}) != 0:
                return 1
            print("-- the same migration again: everything is already there")
            return regcopy(*migrate, "--quiet")
        finally:
            world.stop()


def _docker_config(root: Path, world: TencentWorld) -> Path:
    """A docker ``config.json`` holding the CCR and TCR logins."""
    directory = root / "docker"
    directory.mkdir(exist_ok=True)
    ccr, tcr = world.ccr.host, world.tcr.host
    auths = {
        host: {"auth": base64.b64encode(":".join(login).encode()).decode()}
        for host, login in ((ccr, CCR_LOGIN), (tcr, TCR_LOGIN))
    }
    (directory / "config.json").write_text(json.dumps({"auths": auths}))
    return directory


if __name__ == "__main__":
    sys.exit(main())
