"""Seeding the emulated Tencent Cloud for migrate tests: accounts, a CCR inventory, vendor-style arguments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tests.seed import Pushed, Seeder
from tests.servers.tencent import CCRRepo, TencentWorld

SECRET_ID, SECRET_KEY = "AKIDexampleSecretId0001", "exampleSecretKeyValue-0123456789"
CCR_USER, CCR_PASS = "100012345678", "ccr-Pa55word!"
TCR_USER, TCR_PASS = "tcr-robot", "tcr-Pa55word!"
BASE = dt.datetime(2024, 5, 1, 8, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def push_time(minutes: int) -> str:
    return (BASE + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S +0800 CST")


@dataclass
class Seeded:
    world: TencentWorld
    images: dict[str, Pushed] = field(default_factory=dict)  # "ns/repo:tag" -> what was pushed

    @property
    def env(self) -> dict[str, str]:
        return {"TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY}

    def args(self, *extra: str) -> list[str]:
        """A vendor-style command line pointed at the emulator."""
        return [
            "migrate",
            "--tcrName",
            self.world.instance.name,
            "--ccrRegionName",
            "ap-guangzhou",
            "--tcrRegionName",
            self.world.instance.region,
            "--ccr-endpoint",
            self.world.ccr.host,
            "--tcr-endpoint",
            self.world.tcr.host,
            "--api-endpoint",
            self.world.api.url,
            "--no-cache",
            *extra,
        ]


def seed_ccr(world: TencentWorld, layout: dict[str, int], *, multiarch: tuple[str, ...] = ()) -> Seeded:
    """Push ``tags`` tags into each repository of ``layout``, registering push times in the API state.

    Tag names are chosen so that name order and push order disagree: v9 is the oldest.
    """
    seeded = Seeded(world)
    seeder = Seeder(world.ccr.host, (CCR_USER, CCR_PASS))
    minute = 0
    for repository, tags in layout.items():
        entry = world.api.ccr.setdefault(
            repository, CCRRepo(public=repository.startswith("pub"), description=f"about {repository}")
        )
        for index in range(tags):
            tag = f"v{tags - index}"  # v5 pushed first ... v1 pushed last
            if repository in multiarch:
                pushed, _ = seeder.push_index(repository, tag, [("linux", "amd64", None), ("linux", "arm64", "v8")])
            else:
                pushed = seeder.push_image(repository, tag, layer_sizes=(1500,))
            seeded.images[f"{repository}:{tag}"] = pushed
            entry.tags[tag] = push_time(minute)
            minute += 1
    seeder.close()
    return seeded
