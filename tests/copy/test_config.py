"""Sync configuration errors name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from regcopy.copy.config import ConfigError, load_sync_config
from regcopy.copy.tags import order_by_version, select_tags
from tests.conftest import run_cli


def load_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sync.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_sync_config(path)
    return str(caught.value)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "jobs:\n  - source: a.io/x\n    destination: [unclosed\n")
    assert message.startswith(f"{tmp_path / 'sync.yaml'}:")
    assert "invalid YAML" in message


def test_field_error_points_at_its_line(tmp_path: Path) -> None:
    text = (
        "registries:\n  a.io:\n    insecure: true\n"
        "jobs:\n"
        "  - source: a.io/x\n    destination: b.io/x\n"
        "  - source: a.io/y\n    destination: b.io/y\n    latest: many\n"
    )
    message = load_error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'sync.yaml'}:9: jobs[1].latest:")
    assert "valid integer" in message


def test_unknown_key_and_bad_regex(tmp_path: Path) -> None:
    assert ":3: jobs[0].tagz: Extra inputs are not permitted" in load_error(
        tmp_path, "jobs:\n  - source: a.io/x\n    tagz: [v1]\n    destination: b.io/x\n"
    )
    assert "invalid regular expression '(unclosed'" in load_error(
        tmp_path, "jobs:\n  - source: a.io/x\n    destination: b.io/x\n    include: ['(unclosed']\n"
    )


def test_cli_reports_config_error_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "sync.yaml"
    path.write_text("jobs: []\n")
    done = run_cli("sync", str(path))
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"regcopy: error: {path}:1: jobs:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_tag_selection() -> None:
    tags = ["latest", "v1.2.0", "v1.10.0", "v1.9.3", "v2.0.0-rc1", "v2.0.0", "main", "1.0"]
    assert order_by_version(tags)[:5] == ["v2.0.0", "v2.0.0-rc1", "v1.10.0", "v1.9.3", "v1.2.0"]
    assert select_tags(tags, latest=2) == ["v2.0.0", "v2.0.0-rc1"]
    assert select_tags(tags, include=[r"^v1\."], exclude=[r"\.9\."]) == ["v1.2.0", "v1.10.0"]
    assert select_tags(tags, explicit=["x", "y", "x"]) == ["x", "y"]
    assert select_tags(tags, include=["^v"], exclude=["rc"], latest=1) == ["v2.0.0"]
