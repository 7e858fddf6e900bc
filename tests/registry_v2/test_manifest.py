from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regcopy.errors import UnsupportedManifest
from regcopy.registry_v2 import mediatypes as mt
from regcopy.registry_v2.manifest import Platform, detect_media_type, filter_index, parse_manifest, sha256_digest

D = "sha256:" + "1" * 64


def index(*platforms: dict[str, str]) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {"mediaType": mt.OCI_MANIFEST, "digest": "sha256:" + str(i) * 64, "size": 10, "platform": p}
                for i, p in enumerate(platforms)
            ],
        }
    ).encode()


def test_image_blobs_and_digest_of_exact_bytes() -> None:
    data = b'{"schemaVersion":2,"config":{"mediaType":"c","digest":"%s","size":3},"layers":[]}  ' % D.encode()
    manifest = parse_manifest(data, mt.OCI_MANIFEST)
    assert manifest.digest == sha256_digest(data)
    assert [b.digest for b in manifest.blobs] == [D]


def test_schema1_is_refused_with_advice() -> None:
    with pytest.raises(UnsupportedManifest, match="schema 1"):
        parse_manifest(b'{"schemaVersion":1}', mt.DOCKER_SCHEMA1_SIGNED)


def test_unknown_media_type_is_refused() -> None:
    with pytest.raises(UnsupportedManifest, match="unsupported manifest media type 'text/html'"):
        parse_manifest(b"<html>", "text/html")


def test_media_type_detection_falls_back_to_body() -> None:
    assert detect_media_type(index({"os": "linux", "architecture": "amd64"}), "application/json") == mt.OCI_INDEX
    assert detect_media_type(b'{"schemaVersion":1,"signatures":[]}', None) == mt.DOCKER_SCHEMA1_SIGNED
    assert detect_media_type(b"{}", mt.DOCKER_MANIFEST + "; charset=utf-8") == mt.DOCKER_MANIFEST


def test_platform_filter_keeps_matching_children_only() -> None:
    data = index(
        {"os": "linux", "architecture": "amd64"},
        {"os": "linux", "architecture": "arm64", "variant": "v8"},
        {"os": "windows", "architecture": "amd64"},
    )
    manifest = parse_manifest(data, mt.OCI_INDEX)
    filtered = filter_index(manifest, [Platform.parse("linux/arm64"), Platform.parse("windows/amd64")])
    assert [c.platform and str(c.platform) for c in filtered.children] == ["linux/arm64/v8", "windows/amd64"]
    assert filtered.digest != manifest.digest


def test_platform_filter_keeps_the_attestations_of_kept_images_only() -> None:
    """BuildKit pushes provenance/SBOM manifests as unknown/unknown children pointing at their image."""
    body = json.loads(index({"os": "linux", "architecture": "amd64"}, {"os": "linux", "architecture": "arm64"}))
    images = [entry["digest"] for entry in body["manifests"]]
    for n, image in enumerate(images):
        body["manifests"].append(
            {
                "mediaType": mt.OCI_MANIFEST,
                "digest": "sha256:" + str(7 + n) * 64,
                "size": 10,
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": image,
                },
            }
        )
    filtered = filter_index(parse_manifest(json.dumps(body).encode(), mt.OCI_INDEX), [Platform.parse("linux/arm64")])
    assert [c.digest for c in filtered.children] == [images[1], "sha256:" + "8" * 64]
    assert json.loads(filtered.data)["manifests"][1]["annotations"]["vnd.docker.reference.digest"] == images[1]


def test_platform_filter_refuses_an_index_of_indexes() -> None:
    inner = {"mediaType": mt.OCI_INDEX, "digest": D, "size": 10}
    data = json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [inner]}).encode()
    with pytest.raises(UnsupportedManifest, match="index of indexes"):
        filter_index(parse_manifest(data, mt.OCI_INDEX), [Platform.parse("linux/amd64")])


def test_platform_parse_errors() -> None:
    for bad in ["linux", "linux/", "a/b/c/d"]:
        with pytest.raises(ValueError, match="expected os/arch"):
            Platform.parse(bad)


@given(st.binary(max_size=2000), st.sampled_from([mt.OCI_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST, "x/y"]))
def test_parse_raises_only_typed_errors(data: bytes, media_type: str) -> None:
    with contextlib.suppress(UnsupportedManifest):
        parse_manifest(data, media_type)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "manifests",
                        "config",
                        "layers",
                        "digest",
                        "size",
                        "platform",
                        "os",
                        "architecture",
                        "subject",
                        "urls",
                        "mediaType",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_parse_structured_garbage_raises_only_typed_errors(value: object) -> None:
    data = json.dumps(value).encode()
    for media_type in (mt.OCI_MANIFEST, mt.OCI_INDEX):
        with contextlib.suppress(UnsupportedManifest):
            parse_manifest(data, media_type)
