"""A local Tencent Cloud for tests and the rehearsal: the TCR API (v2019-09-24) plus CCR and TCR registries.

The API server checks TC3-HMAC-SHA256 signatures and timestamp skew exactly as
the cloud does, answers from in-memory state with the real envelopes and paging
(errors arrive as HTTP 200 with ``Response.Error`` and ``Content-Type:
application/json``), and can be told to fail chosen calls. The registries are
real ``docker-registry`` servers behind token auth; the TCR token service only
grants ``push`` into namespaces that were created through the API, as TCR does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.servers.registry import RegistryServer
from tests.servers.tokenserver import TokenServer

SKEW = 300
CONFLICT = "FailedOperation.ErrorTcrResourceConflict"


class APIError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class CCRRepo:
    public: bool = False
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)  # tag -> push time "2019-10-24 14:20:51 +0800 CST"


@dataclass
class TCRInstance:
    registry_id: str
    name: str
    region: str
    public_domain: str
    namespaces: dict[str, bool] = field(default_factory=dict)
    repositories: dict[str, str] = field(default_factory=dict)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    signing = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


class TencentCloudEmulator:
    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys
        self.ccr: dict[str, CCRRepo] = {}
        self.ccr_server: str | None = None
        self.instances: list[TCRInstance] = []
        self.faults: dict[str, list[str]] = defaultdict(list)  # action -> error codes for its next calls
        self.calls: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.token_servers: dict[str, TokenServer] = {}  # registry id -> its registry's token service
        # action -> (arrived, release): a call of that action signals ``arrived`` and waits for ``release``
        self.holds: dict[str, tuple[threading.Event, threading.Event]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TencentCloudEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def instance(self, registry_id: str) -> TCRInstance:
        for instance in self.instances:
            if instance.registry_id == registry_id:
                return instance
        raise APIError("ResourceNotFound", f"instance {registry_id} not found")

    # -- signature ------------------------------------------------------------------------------

    def _verify(self, headers: dict[str, str], body: bytes) -> None:
        auth = headers.get("authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 "):
            raise APIError("AuthFailure.SignatureFailure", "unsupported signature method")
        parts = dict(p.strip().split("=", 1) for p in auth[len("TC3-HMAC-SHA256 ") :].split(","))
        secret_id, date, service, _ = parts["Credential"].split("/")
        if secret_id not in self.keys:
            raise APIError("AuthFailure.SecretIdNotFound", "The SecretId is not found")
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        if abs(time.time() - timestamp) > SKEW:
            raise APIError("AuthFailure.SignatureExpire", "Signature expired")
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                f"content-type:{headers.get('content-type', '')}\nhost:{headers.get('host', '')}\n",
                parts["SignedHeaders"],
                hashlib.sha256(body).hexdigest(),
            ]
        )
        string_to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                str(timestamp),
                f"{date}/{service}/tc3_request",
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        expected = tc3_signature(self.keys[secret_id], date, service, string_to_sign)
        if not hmac.compare_digest(expected, parts["Signature"]):
            raise APIError("AuthFailure.SignatureFailure", "The provided credentials could not be validated")

    # -- actions --------------------------------------------------------------------------------

    def dispatch(self, action: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_{action}", None)
        if handler is None:
            raise APIError("InvalidAction", f"action {action} not supported by the emulator")
        return handler(region, p)  # type: ignore[no-any-return]

    def _DescribeRepositoryOwnerPersonal(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.ccr)
        offset, limit = int(p.get("Offset", 0)), min(int(p.get("Limit", 20)), 100)
        page = [
            {
                "RepoName": n,
                "RepoType": "",
                "TagCount": len(self.ccr[n].tags),
                "Public": int(self.ccr[n].public),
                "Description": self.ccr[n].description,
                "CreationTime": "2019-01-01 00:00:00",
            }
            for n in names[offset : offset + limit]
        ]
        data: dict[str, Any] = {"TotalCount": len(names), "RepoInfo": page}
        if self.ccr_server:
            data["Server"] = self.ccr_server
        return {"Data": data}

    def _DescribeImagePersonal(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        repo = self.ccr.get(p.get("RepoName", ""))
        if repo is None:
            raise APIError("ResourceNotFound", "repository not found")
        tags = sorted(repo.tags)  # by name: regcopy has to sort by push time itself
        offset, limit = int(p.get("Offset", 0)), min(int(p.get("Limit", 20)), 100)
        page = [
            {"TagName": t, "TagId": i, "PushTime": repo.tags[t], "UpdateTime": repo.tags[t], "Kind": "docker"}
            for i, t in enumerate(tags[offset : offset + limit])
        ]
        return {
            "Data": {
                "TagCount": len(tags),
                "TagInfo": page,
                "RepoName": p.get("RepoName"),
                "Server": self.ccr_server or "",
            }
        }

    def _DescribeInstances(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        found = [i for i in self.instances if i.region == region]
        for f in p.get("Filters") or []:
            if f.get("Name") == "RegistryName":
                # the cloud matches names fuzzily; the client has to compare exactly
                found = [i for i in found if any(v in i.name for v in f.get("Values", []))]
        offset, limit = int(p.get("Offset", 0)), min(int(p.get("Limit", 20)), 100)
        return {
            "TotalCount": len(found),
            "Registries": [
                {
                    "RegistryId": i.registry_id,
                    "RegistryName": i.name,
                    "RegionName": i.region,
                    "Status": "Running",
                    "PublicDomain": i.public_domain,
                    "InternalEndpoint": "",
                }
                for i in found[offset : offset + limit]
            ],
        }

    def _DescribeNamespaces(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance(p.get("RegistryId", ""))
        names = sorted(instance.namespaces)
        limit, page = int(p.get("Limit", 20)), int(p.get("Offset", 1))
        if page < 1:
            raise APIError("InvalidParameter", "Offset is a page number starting at 1")
        chunk = names[(page - 1) * limit : page * limit]
        return {
            "TotalCount": len(names),
            "NamespaceList": [
                {"Name": n, "Public": instance.namespaces[n], "NamespaceId": i} for i, n in enumerate(chunk)
            ],
        }

    def _CreateNamespace(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance(p.get("RegistryId", ""))
        name = p.get("NamespaceName", "")
        if name in instance.namespaces:
            raise APIError(CONFLICT, f"namespace {name} already exists")
        instance.namespaces[name] = bool(p.get("IsPublic"))
        return {}

    def _DescribeRepositories(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance(p.get("RegistryId", ""))
        names = sorted(instance.repositories)
        limit, page = int(p.get("Limit", 20)), int(p.get("Offset", 1))
        chunk = names[(page - 1) * limit : page * limit]
        return {
            "TotalCount": len(names),
            "RepositoryList": [
                {"Name": n, "Namespace": n.split("/")[0], "Description": instance.repositories[n]} for n in chunk
            ],
        }

    def _CreateRepository(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance(p.get("RegistryId", ""))
        namespace, name = p.get("NamespaceName", ""), p.get("RepositoryName", "")
        if namespace not in instance.namespaces:
            raise APIError("ResourceNotFound", f"namespace {namespace} not found")
        full = f"{namespace}/{name}"
        if full in instance.repositories:
            raise APIError(CONFLICT, f"repository {full} already exists")
        instance.repositories[full] = p.get("Description", "")
        return {}

    def _CreateInstanceToken(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance(p.get("RegistryId", ""))
        username, token = "100000000001", uuid.uuid4().hex
        server = self.token_servers.get(instance.registry_id)
        if server is not None:
            server.users[username] = token
        return {
            "Username": username,
            "Token": token,
            "ExpTime": int((time.time() + 3600) * 1000),
            "TokenId": uuid.uuid4().hex[:8],
        }

    # -- HTTP -----------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                action = headers.get("x-tc-action", "")
                request_id = str(uuid.uuid4())
                hold = emulator.holds.get(action)
                if hold is not None:
                    hold[0].set()
                    hold[1].wait(timeout=60)
                try:
                    emulator._verify(headers, body)
                    params = json.loads(body or b"{}")
                    with emulator._lock:
                        emulator.calls[action] += 1
                        emulator.requests.append(
                            {"action": action, "params": params, "region": headers.get("x-tc-region", "")}
                        )
                        if emulator.faults[action]:
                            code = emulator.faults[action].pop(0)
                            raise APIError(code, "injected fault")
                        response = emulator.dispatch(action, headers.get("x-tc-region", ""), params)
                except APIError as exc:
                    response = {"Error": {"Code": exc.code, "Message": exc.message}}
                response["RequestId"] = request_id
                data = json.dumps({"Response": response}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@dataclass
class TencentWorld:
    """The emulated cloud plus the registries behind CCR and one TCR instance."""

    api: TencentCloudEmulator
    ccr: RegistryServer
    tcr: RegistryServer
    ccr_tokens: TokenServer
    tcr_tokens: TokenServer
    instance: TCRInstance

    def stop(self) -> None:
        for server in (self.ccr, self.tcr):
            server.stop()
        for tokens in (self.ccr_tokens, self.tcr_tokens):
            tokens.stop()
        self.api.stop()


def start_world(
    root: Path,
    *,
    keys: dict[str, str],
    ccr_user: tuple[str, str],
    tcr_user: tuple[str, str],
    instance_name: str = "prod",
    tcr_region: str = "ap-shanghai",
) -> TencentWorld:
    api = TencentCloudEmulator(keys).start()
    ccr_tokens = TokenServer(root / "ccr-token", {ccr_user[0]: ccr_user[1]}).start()
    tcr_tokens = TokenServer(root / "tcr-token", {tcr_user[0]: tcr_user[1]}).start()
    instance = TCRInstance("tcr-0a1b2c3d", instance_name, tcr_region, f"{instance_name}.tencentcloudcr.com")
    api.instances.append(instance)
    api.token_servers[instance.registry_id] = tcr_tokens
    tcr_tokens.push_allowed = lambda repository: repository.split("/")[0] in instance.namespaces
    ccr = RegistryServer(root, name="ccr", auth=ccr_tokens.registry_auth()).start()
    tcr = RegistryServer(root, name="tcr", auth=tcr_tokens.registry_auth()).start()
    return TencentWorld(api, ccr, tcr, ccr_tokens, tcr_tokens, instance)
