"""TCR (Enterprise Edition) provisioning: find the instance, create namespaces and repositories.

Everything here is idempotent, so a rerun (or several shards at once) may do it
again: an answer that says the resource already exists (``*Conflict``) counts as
success once a fresh listing confirms it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import anyio

from regcopy.errors import RegcopyError, TencentAPIError
from regcopy.reference import validate_repository
from regcopy.tencent.api import TencentAPI

PAGE = 100
_NAMESPACE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


class InstanceNotFound(RegcopyError):
    """The named TCR instance does not exist in the region."""


@dataclass(frozen=True, slots=True)
class Instance:
    registry_id: str
    name: str
    region: str
    public_domain: str
    internal_endpoint: str = ""


@dataclass(slots=True)
class Provisioned:
    namespaces_created: list[str] = field(default_factory=list)
    repositories_created: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # namespace or repository -> reason


def namespace_problem(name: str) -> str | None:
    """Why TCR would refuse ``name`` as a namespace, or ``None`` when it is acceptable."""
    if not 2 <= len(name) <= 30:
        return f"namespace {name!r} must be 2-30 characters long"
    if not _NAMESPACE.fullmatch(name):
        return (
            f"namespace {name!r} may only use lowercase letters and digits with single '.', '_' or '-'"
            " separators inside"
        )
    return None


def repository_problem(name: str) -> str | None:
    """Why TCR would refuse ``namespace/repository``, or ``None``."""
    namespace, _, repository = name.partition("/")
    problem = namespace_problem(namespace)
    if problem:
        return problem
    if not repository:
        return f"repository {name!r} has no name below its namespace"
    try:
        validate_repository(name)
    except RegcopyError as exc:
        return str(exc)
    if len(repository) > 200:
        return f"repository {name!r} is longer than 200 characters"
    return None


def is_conflict(error: TencentAPIError) -> bool:
    return "Conflict" in error.code or error.code.endswith(("AlreadyExists", "ResourceInUse"))


async def find_instance(api: TencentAPI, name: str) -> Instance:
    """The instance called exactly ``name``; if absent, the error lists the instances that do exist."""
    candidates = await _instances(api, [{"Name": "RegistryName", "Values": [name]}])
    for registry in candidates:
        if registry.get("RegistryName") == name:
            return Instance(
                registry_id=str(registry.get("RegistryId")),
                name=name,
                region=str(registry.get("RegionName") or api.region),
                public_domain=str(registry.get("PublicDomain") or ""),
                internal_endpoint=str(registry.get("InternalEndpoint") or ""),
            )
    existing = sorted(str(r.get("RegistryName")) for r in await _instances(api, None))
    listing = ", ".join(existing) if existing else "none"
    raise InstanceNotFound(
        f"TCR instance {name!r} not found in region {api.region}; instances there: {listing}",
        hint="check --tcr-name and --tcr-region",
    )


async def _instances(api: TencentAPI, filters: list[dict[str, object]] | None) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    offset = 0
    while True:
        params: dict[str, object] = {"Offset": offset, "Limit": PAGE}
        if filters:
            params["Filters"] = filters
        answer = await api.call("DescribeInstances", params)
        page = answer.get("Registries") or []
        found.extend(page)
        offset += len(page)
        if not page or offset >= int(answer.get("TotalCount") or 0):
            return found


async def list_namespaces(api: TencentAPI, registry_id: str) -> dict[str, bool]:
    """Namespace name -> public. ``DescribeNamespaces`` pages by page number, starting at 1."""
    found: dict[str, bool] = {}
    page = 1
    while True:
        answer = await api.call("DescribeNamespaces", {"RegistryId": registry_id, "Limit": PAGE, "Offset": page})
        items = answer.get("NamespaceList") or []
        for item in items:
            found[str(item.get("Name"))] = bool(item.get("Public"))
        if not items or len(found) >= int(answer.get("TotalCount") or 0):
            return found
        page += 1


async def list_repositories(api: TencentAPI, registry_id: str) -> set[str]:
    """Every ``namespace/repository`` of the instance (``DescribeRepositories`` pages by page number)."""
    found: set[str] = set()
    page = 1
    while True:
        answer = await api.call("DescribeRepositories", {"RegistryId": registry_id, "Limit": PAGE, "Offset": page})
        items = answer.get("RepositoryList") or []
        for item in items:
            name, namespace = str(item.get("Name", "")), str(item.get("Namespace", ""))
            found.add(name if "/" in name or not namespace else f"{namespace}/{name}")
        if not items or len(found) >= int(answer.get("TotalCount") or 0):
            return found
        page += 1


async def ensure_namespaces(api: TencentAPI, instance: Instance, wanted: dict[str, bool], result: Provisioned) -> None:
    """Create the namespaces in ``wanted`` (name -> public) that do not exist yet."""
    existing = await list_namespaces(api, instance.registry_id)
    for name in sorted(set(wanted) - set(existing)):
        try:
            await api.call(
                "CreateNamespace", {"RegistryId": instance.registry_id, "NamespaceName": name, "IsPublic": wanted[name]}
            )
            result.namespaces_created.append(name)
        except TencentAPIError as exc:
            if is_conflict(exc) and name in await list_namespaces(api, instance.registry_id):
                continue  # created meanwhile (another shard, an earlier attempt): fine
            result.failures[name] = str(exc)


async def ensure_repositories(
    api: TencentAPI, instance: Instance, wanted: dict[str, str], result: Provisioned, concurrency: int = 8
) -> None:
    """Create the repositories in ``wanted`` (name -> description) that do not exist yet."""
    existing = await list_repositories(api, instance.registry_id)
    limiter = anyio.CapacityLimiter(concurrency)

    async def create(name: str) -> None:
        namespace, _, repository = name.partition("/")
        if namespace in result.failures:
            return
        description = wanted[name]
        params = {
            "RegistryId": instance.registry_id,
            "NamespaceName": namespace,
            "RepositoryName": repository,
            "BriefDescription": description[:100],
            "Description": description,
        }
        async with limiter:
            try:
                await api.call("CreateRepository", params)
                result.repositories_created.append(name)
            except TencentAPIError as exc:
                if not is_conflict(exc):
                    result.failures[name] = str(exc)

    async with anyio.create_task_group() as group:
        for name in sorted(set(wanted) - existing):
            group.start_soon(create, name)
    result.repositories_created.sort()


async def instance_token(api: TencentAPI, instance: Instance) -> tuple[str, str, float]:
    """A temporary registry credential for the instance: (username, token, expiry as a UNIX time)."""
    answer = await api.call("CreateInstanceToken", {"RegistryId": instance.registry_id, "TokenType": "temp"})
    expires = float(answer.get("ExpTime") or 0)
    if expires > 1e11:  # milliseconds
        expires /= 1000
    return str(answer.get("Username")), str(answer.get("Token")), expires
