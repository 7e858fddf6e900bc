"""Credentials from docker's config.json: auths entries, credHelpers and credsStore (real helper programs)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from regcopy.errors import AuthError
from regcopy.registry_v2.credentials import Credentials, credentials_from_docker_config


def write_config(tmp_path: Path, config: dict[str, object]) -> None:
    directory = Path(os.environ["DOCKER_CONFIG"])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))


def install_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, answers: dict[str, dict[str, str]]
) -> None:
    """A real ``docker-credential-<name>`` program on PATH that answers from a table."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    program = bin_dir / f"docker-credential-{name}"
    program.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"answers = {json.dumps(answers)}\n"
        "server = sys.stdin.read().strip()\n"
        "if sys.argv[1] != 'get' or server not in answers:\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        "print(json.dumps(answers[server]))\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_auths_entry_with_auth_field(tmp_path: Path) -> None:
    encoded = base64.b64encode(b"user1:pa:ss").decode()
    write_config(tmp_path, {"auths": {"https://ccr.ccs.tencentyun.com": {"auth": encoded}}})
    assert credentials_from_docker_config("ccr.ccs.tencentyun.com") == Credentials("user1", "pa:ss")
    assert credentials_from_docker_config("other.example.com") is None


def test_docker_hub_legacy_key(tmp_path: Path) -> None:
    write_config(tmp_path, {"auths": {"https://index.docker.io/v1/": {"username": "hub", "password": "pw"}}})
    assert credentials_from_docker_config("docker.io") == Credentials("hub", "pw")


def test_cred_helper_for_one_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path, monkeypatch, "fake", {"inst.tencentcloudcr.com": {"Username": "u", "Secret": "s"}})
    write_config(
        tmp_path,
        {
            "credHelpers": {"inst.tencentcloudcr.com": "fake"},
            "auths": {"inst.tencentcloudcr.com": {"auth": base64.b64encode(b"x:y").decode()}},
        },
    )
    assert credentials_from_docker_config("inst.tencentcloudcr.com") == Credentials("u", "s")


def test_creds_store_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path, monkeypatch, "store", {"h.example.com:5000": {"Username": "a", "Secret": "b"}})
    write_config(tmp_path, {"credsStore": "store"})
    assert credentials_from_docker_config("h.example.com:5000") == Credentials("a", "b")
    assert credentials_from_docker_config("unknown.example.com") is None


def test_missing_helper_is_a_clear_error(tmp_path: Path) -> None:
    write_config(tmp_path, {"credsStore": "does-not-exist"})
    with pytest.raises(AuthError, match="docker-credential-does-not-exist is not on PATH"):
        credentials_from_docker_config("h.example.com")


def test_parse_user_pass() -> None:
    assert Credentials.parse("u:p:q") == Credentials("u", "p:q")
    with pytest.raises(Exception, match="--src-creds must be USER:PASSWORD"):
        Credentials.parse("justuser", source="--src-creds")
