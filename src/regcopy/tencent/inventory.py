"""What a CCR (Personal Edition) account holds: every repository and every tag, with push times.

Both listings page through the API until the announced total is reached. A page
that fails after retries is recorded as a failure of the inventory, never
skipped silently: the migration then reports it and exits non-zero.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from regcopy.errors import RegcopyError
from regcopy.tencent.api import TencentAPI

PAGE = 100
_ZONE_NAME = re.compile(r"\s+[A-Z]{2,5}$")


@dataclass(frozen=True, slots=True)
class CCRTag:
    name: str
    push_time: dt.datetime | None


@dataclass(slots=True)
class CCRRepository:
    name: str  # namespace/repository
    public: bool = False
    description: str = ""
    tags: list[CCRTag] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        return self.name.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class InventoryFailure:
    what: str  # a repository name, or "repository list"
    error: str


@dataclass(slots=True)
class Inventory:
    server: str | None = None
    repositories: list[CCRRepository] = field(default_factory=list)  # with their tags
    listed: list[CCRRepository] = field(default_factory=list)  # every selected repository, tags listed or not
    list_failures: list[InventoryFailure] = field(default_factory=list)  # pages of the repository list
    tag_failures: list[InventoryFailure] = field(default_factory=list)  # repositories whose tags failed


def parse_push_time(text: str | None) -> dt.datetime | None:
    """``2019-10-24 14:20:51 +0800 CST`` (CCR's format) to an aware datetime; ``None`` if unparseable."""
    if not text:
        return None
    cleaned = _ZONE_NAME.sub("", text.strip())
    for layout in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = dt.datetime.strptime(cleaned, layout)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return None


def newest(tags: list[CCRTag], count: int) -> list[CCRTag]:
    """The ``count`` most recently pushed tags (all when ``count`` is 0); unknown push times sort last."""
    epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    ordered = sorted(tags, key=lambda t: (t.push_time or epoch, t.name), reverse=True)
    return ordered if count <= 0 else ordered[:count]


def selected(name: str, namespaces: list[str], repositories: list[str]) -> bool:
    """Filters match exact names or shell patterns (``team-*``, ``team/web*``)."""
    namespace = name.split("/", 1)[0]
    if namespaces and not any(fnmatch.fnmatchcase(namespace, p) for p in namespaces):
        return False
    return not repositories or any(fnmatch.fnmatchcase(name, p) for p in repositories)


async def list_repositories(api: TencentAPI, inventory: Inventory) -> list[CCRRepository]:
    repositories: list[CCRRepository] = []
    offset, total = 0, None
    while total is None or offset < total:
        try:
            answer = await api.call("DescribeRepositoryOwnerPersonal", {"Offset": offset, "Limit": PAGE})
        except RegcopyError as exc:
            inventory.list_failures.append(InventoryFailure(f"repository list at offset {offset}", str(exc)))
            if total is None:
                break  # nothing known about the size: cannot page on
            offset += PAGE
            continue
        data = answer.get("Data") or {}
        total = int(data.get("TotalCount") or 0)
        inventory.server = inventory.server or data.get("Server")
        page = data.get("RepoInfo") or []
        for info in page:
            repositories.append(
                CCRRepository(
                    name=str(info.get("RepoName", "")),
                    public=bool(info.get("Public")),
                    description=str(info.get("Description") or ""),
                )
            )
        if not page:
            break
        offset += len(page)
    return repositories


async def list_tags(api: TencentAPI, repository: str) -> list[CCRTag]:
    tags: list[CCRTag] = []
    offset, total = 0, None
    while total is None or offset < total:
        answer = await api.call("DescribeImagePersonal", {"RepoName": repository, "Offset": offset, "Limit": PAGE})
        data = answer.get("Data") or {}
        total = int(data.get("TagCount") or 0)
        page = data.get("TagInfo") or []
        tags.extend(
            CCRTag(str(t.get("TagName", "")), parse_push_time(t.get("PushTime") or t.get("UpdateTime"))) for t in page
        )
        if not page:
            break
        offset += len(page)
    return tags


async def take_inventory(
    api: TencentAPI,
    *,
    tag_num: int = 0,
    namespaces: list[str] | None = None,
    repositories: list[str] | None = None,
    concurrency: int = 16,
    list_tags_of: Callable[[str], bool] | None = None,
) -> Inventory:
    """Every repository (filtered) and its ``tag_num`` newest tags (all when 0).

    ``list_tags_of`` limits the tag listing (one API call per page per repository) to
    some repositories, e.g. one shard's; ``listed`` still holds every selected one.
    """
    inventory = Inventory()
    inventory.listed = [
        r for r in await list_repositories(api, inventory) if selected(r.name, namespaces or [], repositories or [])
    ]
    found = [r for r in inventory.listed if list_tags_of is None or list_tags_of(r.name)]
    limiter = anyio.CapacityLimiter(concurrency)

    async def tags_of(repository: CCRRepository) -> None:
        async with limiter:
            try:
                repository.tags = newest(await list_tags(api, repository.name), tag_num)
            except RegcopyError as exc:
                inventory.tag_failures.append(InventoryFailure(repository.name, str(exc)))

    async with anyio.create_task_group() as group:
        for repository in found:
            group.start_soon(tags_of, repository)
    failed = {f.what for f in inventory.tag_failures}
    inventory.repositories = sorted((r for r in found if r.name not in failed), key=lambda r: r.name)
    return inventory
