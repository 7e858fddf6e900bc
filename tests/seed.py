"""Seed registries with images made of random layers, using plain httpx (independent of regcopy).

Manifests are written with deliberately unusual whitespace and key order so
that any re-serialisation by the code under test changes the digest.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field

import httpx

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def random_layer(size: int) -> bytes:
    """Random bytes in a real (stored, level 0) gzip stream, so tools that sniff compression see gzip."""
    return gzip.compress(os.urandom(size), compresslevel=0, mtime=0)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Pushed:
    repository: str
    reference: str
    data: bytes
    media_type: str
    blobs: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return sha256(self.data)


class Seeder:
    """Pushes to one registry; handles anonymous, Basic and Bearer (token) registries."""

    def __init__(self, host: str, auth: tuple[str, str] | None = None) -> None:
        self.base = f"http://{host}/v2/"
        self.auth = auth
        self.http = httpx.Client(timeout=60)
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        self.http.close()

    def _request(self, method: str, url: str, scope: str, **kwargs: object) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        for _ in range(2):
            if scope in self._tokens:
                headers["Authorization"] = self._tokens[scope]
            elif self.auth:
                headers["Authorization"] = httpx.BasicAuth(*self.auth)._auth_header
            response = self.http.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
            if response.status_code != 401 or "Bearer" not in response.headers.get("WWW-Authenticate", ""):
                return response
            challenge = response.headers["WWW-Authenticate"]
            params = dict(part.split("=", 1) for part in challenge[7:].split(",") if "=" in part)
            params = {k: v.strip('"') for k, v in params.items()}
            token = self.http.get(
                params["realm"], params={"service": params["service"], "scope": scope}, auth=self.auth
            ).json()["token"]
            self._tokens[scope] = f"Bearer {token}"
        return response

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = sha256(data)
        scope = f"repository:{repository}:pull,push"
        started = self._request("POST", f"{self.base}{repository}/blobs/uploads/", scope)
        assert started.status_code == 202, started.text
        location = httpx.URL(self.base).join(started.headers["Location"])
        done = self._request(
            "PUT",
            str(location.copy_merge_params({"digest": digest})),
            scope,
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
        return digest

    def push_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> Pushed:
        response = self._request(
            "PUT",
            f"{self.base}{repository}/manifests/{reference}",
            f"repository:{repository}:pull,push",
            content=data,
            headers={"Content-Type": media_type},
        )
        assert response.status_code == 201, response.text
        return Pushed(repository, reference, data, media_type)

    def push_image(
        self,
        repository: str,
        tag: str | None,
        *,
        layers: list[bytes] | None = None,
        oci: bool = False,
        platform: tuple[str, str] = ("linux", "amd64"),
        layer_sizes: tuple[int, ...] = (2048, 4096),
    ) -> Pushed:
        """A runnable-looking image: a config blob and ``layers`` (random if not given)."""
        layers = layers if layers is not None else [random_layer(n) for n in layer_sizes]
        config = json.dumps(
            {
                "architecture": platform[1],
                "os": platform[0],
                "rootfs": {"type": "layers", "diff_ids": [sha256(x) for x in layers]},
                "config": {"Env": [f"SEED={os.urandom(4).hex()}"]},
            }
        ).encode()
        config_digest = self.push_blob(repository, config)
        layer_digests = [self.push_blob(repository, layer) for layer in layers]
        media_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
        layer_type = OCI_LAYER if oci else DOCKER_LAYER
        # Unusual but valid JSON: odd indentation, keys out of the usual order, trailing newline.
        layer_entries = ",\n".join(
            f'    {{ "size" : {len(x)},"mediaType":"{layer_type}",\t"digest": "{d}" }}'
            for x, d in zip(layers, layer_digests, strict=False)
        )
        data = (
            f'{{\n "schemaVersion":2,\n      "mediaType": "{media_type}",\n'
            f' "config":{{"mediaType":"{OCI_CONFIG if oci else DOCKER_CONFIG}","size":{len(config)},'
            f'"digest":"{config_digest}"}},\n "layers": [\n{layer_entries}\n ]\n}}\n'
        ).encode()
        pushed = self.push_manifest(repository, tag or sha256(data), data, media_type)
        pushed.blobs = [config_digest, *layer_digests]
        return pushed

    def push_index(
        self, repository: str, tag: str, platforms: list[tuple[str, str, str | None]], *, oci: bool = True
    ) -> tuple[Pushed, list[Pushed]]:
        """A multi-platform index whose children are pushed by digest only."""
        children = []
        entries = []
        for os_, arch, variant in platforms:
            child = self.push_image(repository, None, oci=oci, platform=(os_, arch))
            children.append(child)
            platform: dict[str, str] = {"architecture": arch, "os": os_}
            if variant:
                platform["variant"] = variant
            entries.append(
                {"mediaType": child.media_type, "digest": child.digest, "size": len(child.data), "platform": platform}
            )
        media_type = OCI_INDEX if oci else DOCKER_LIST
        data = (
            json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries}, indent=5).encode() + b"\n\n"
        )
        return self.push_manifest(repository, tag, data, media_type), children


def fetch_manifest(
    host: str, repository: str, reference: str, auth: tuple[str, str] | None = None
) -> tuple[bytes, str]:
    """An independent reader: raw GET, returning the exact bytes and Content-Type."""
    seeder = Seeder(host, auth)
    try:
        accept = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])
        response = seeder._request(
            "GET",
            f"{seeder.base}{repository}/manifests/{reference}",
            f"repository:{repository}:pull",
            headers={"Accept": accept},
        )
        assert response.status_code == 200, response.text
        return response.content, response.headers["Content-Type"]
    finally:
        seeder.close()


def push_referrer(seeder: Seeder, repository: str, subject: Pushed, artifact_type: str) -> Pushed:
    """An OCI 1.1 artifact whose ``subject`` is ``subject``, pushed by digest (as ORAS and notation do)."""
    empty = seeder.push_blob(repository, b"{}")
    payload = seeder.push_blob(repository, os.urandom(300))
    data = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
            "layers": [{"mediaType": "application/octet-stream", "digest": payload, "size": 300}],
            "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.data)},
        }
    ).encode()
    return seeder.push_manifest(repository, sha256(data), data, OCI_MANIFEST)


def push_fallback_index(seeder: Seeder, repository: str, subject: Pushed, referrers: list[Pushed]) -> Pushed:
    """The referrers tag schema: an index tagged ``sha256-<hex>`` listing the referrers of ``subject``."""
    data = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": r.media_type,
                    "digest": r.digest,
                    "size": len(r.data),
                    "artifactType": json.loads(r.data)["artifactType"],
                }
                for r in referrers
            ],
        },
        indent=1,
    ).encode()
    return seeder.push_manifest(repository, subject.digest.replace(":", "-"), data, OCI_INDEX)
