from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regcopy.errors import InvalidReference
from regcopy.reference import Reference, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", None, None),
        ("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", None),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("index.docker.io/library/alpine", "docker.io", "library/alpine", None, None),
        ("ccr.ccs.tencentyun.com/ns/app:v1", "ccr.ccs.tencentyun.com", "ns/app", "v1", None),
        ("inst.tencentcloudcr.com/a/b/c/d:latest", "inst.tencentcloudcr.com", "a/b/c/d", "latest", None),
        ("127.0.0.1:5000/ns/app:v1", "127.0.0.1:5000", "ns/app", "v1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("localhost:5000/app@" + DIGEST, "localhost:5000", "app", None, DIGEST),
        ("Registry.Example.COM/ns/app:t", "registry.example.com", "ns/app", "t", None),
        ("[::1]:5000/ns/app:v1", "[::1]:5000", "ns/app", "v1", None),
        ("h.io/ns/app:v1@" + DIGEST, "h.io", "ns/app", "v1", DIGEST),
        ("h.io/a__b/c-d.e_f:V_1.0-rc", "h.io", "a__b/c-d.e_f", "V_1.0-rc", None),
    ],
)
def test_parse(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", "empty"),
        ("h.io/ns/App:v1", "must be lowercase ('App')"),
        ("h.io/ns/app:-bad", "bad tag '-bad'"),
        ("h.io/ns/app:" + "x" * 129, "bad tag"),
        ("h.io/ns//app", "bad repository path component ''"),
        ("h.io/ns/app@sha256:abc", "needs 64 lowercase hex"),
        ("h.io/ns/app@md5:" + "a" * 32, "unsupported algorithm 'md5'"),
        ("https://h.io/ns/app", "drop the URL scheme"),
        ("h.io/ns/a pp", "whitespace"),
        ("h.io:99999/ns/app", "bad port"),
        ("h.io/ns/app-", "bad repository path component 'app-'"),
    ],
)
def test_malformed_references_name_the_bad_part(text: str, names: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    assert names in str(caught.value)
    assert "\n" not in str(caught.value)


def test_format_round_trips() -> None:
    for text in ["h.io/ns/app:v1", "h.io/ns/app@" + DIGEST, "h.io/ns/app:v1@" + DIGEST, "docker.io/library/x:y"]:
        assert str(parse_reference(text)) == text


def test_api_fields() -> None:
    ref = parse_reference("alpine")
    assert ref.api_host == "registry-1.docker.io"
    assert ref.api_reference == "latest"
    assert Reference("h.io", "a", "t", DIGEST).api_reference == DIGEST


@given(st.text(max_size=300))
def test_any_text_parses_or_raises_invalid_reference(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InvalidReference:
        return
    assert parse_reference(str(ref)) == ref
