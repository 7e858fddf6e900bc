"""Side-by-side benchmarks: regcopy against skopeo and a curl pipe floor, on the same data, in one run.

Two local registries are started; named datasets are seeded into the source once; then for every
repetition each contender runs in turn (alternating, so drift in the machine's load hits all alike)
into a freshly emptied destination (``full``), and again into the destination it just filled
(``noop``). Wall time, CPU time and peak RSS come from ``wait4`` of the contender's process, request
counts from the registries' own logs.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from tests.seed import Seeder, random_layer
from tests.servers.registry import RegistryServer

MB = 1_000_000


@dataclass
class Dataset:
    name: str
    tags: dict[str, list[str]] = field(default_factory=dict)  # repository -> tags
    blobs: dict[str, tuple[str, int]] = field(default_factory=dict)  # digest -> (a repository holding it, size)

    @property
    def unique_bytes(self) -> int:
        return sum(size for _, size in self.blobs.values())

    @property
    def tag_count(self) -> int:
        return sum(len(t) for t in self.tags.values())

    def record(self, repository: str, tag: str, blobs: list[tuple[str, int]]) -> None:
        self.tags.setdefault(repository, []).append(tag)
        for digest, size in blobs:
            self.blobs.setdefault(digest, (repository, size))


def _push(seeder: Seeder, dataset: Dataset, repository: str, tag: str, layers: list[bytes]) -> None:
    pushed = seeder.push_image(repository, tag, layers=layers)
    config_size = len(seeder.http.get(f"{seeder.base}{repository}/blobs/{pushed.blobs[0]}").content)
    sizes = [config_size, *(len(layer) for layer in layers)]
    dataset.record(repository, tag, list(zip(pushed.blobs, sizes, strict=True)))


def seed_shared(seeder: Seeder) -> Dataset:
    """8 repositories x 3 tags, ~190 MB unique: three large base layers shared by every image."""
    dataset = Dataset("shared")
    base = [random_layer(60 * MB), random_layer(40 * MB), random_layer(30 * MB)]
    for r in range(8):
        own = random_layer(5 * MB)
        for t in range(3):
            _push(seeder, dataset, f"shared/app{r}", f"v{t}", [*base, own, random_layer(800_000)])
    return dataset


def seed_many(seeder: Seeder, tags: int = 1000) -> Dataset:
    """``tags`` tags with small layers (request-bound): 50 repositories, one shared base layer."""
    dataset = Dataset("many")
    base = random_layer(100_000)
    for i in range(tags):
        _push(seeder, dataset, f"many/app{i % 50}", f"v{i // 50}", [base, random_layer(2_000)])
    return dataset


def seed_index(seeder: Seeder) -> Dataset:
    """10 repositories x 2 tags of 3-platform OCI indexes, ~1 MB per platform."""
    dataset = Dataset("index")
    for r in range(10):
        for t in range(2):
            _, children = seeder.push_index(
                f"index/app{r}", f"v{t}", [("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "arm", "v7")]
            )
            blobs = []
            for child in children:
                for digest in child.blobs:
                    size = int(seeder.http.head(f"{seeder.base}index/app{r}/blobs/{digest}").headers["Content-Length"])
                    blobs.append((digest, size))
            dataset.record(f"index/app{r}", f"v{t}", blobs)
    return dataset


def seed_big(seeder: Seeder, mib: int = 1024) -> Dataset:
    from benchmarks.big_rss import push_big_image

    dataset = Dataset("big")
    host = seeder.base.split("//", 1)[1].split("/", 1)[0]
    digest = push_big_image(host, "big/app", "v1", mib * 1024 * 1024)
    dataset.record("big/app", "v1", [(digest, mib * 1024 * 1024)])
    return dataset


SEEDERS: dict[str, Callable[[Seeder], Dataset]] = {
    "shared": seed_shared,
    "many": seed_many,
    "index": seed_index,
    "big": seed_big,
}


# -- contenders ------------------------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    command: Callable[[str, str, Dataset, Path, int], list[str]]


def regcopy_command(src: str, dst: str, dataset: Dataset, work: Path, concurrency: int) -> list[str]:
    config = work / f"regcopy-{dataset.name}.json"
    config.write_text(
        json.dumps({"jobs": [{"source": f"{src}/{dataset.name}/", "destination": f"{dst}/{dataset.name}/"}]})
    )
    return [sys.executable, "-m", "regcopy.cli", "sync", str(config), "-q", "--no-cache", "-j", str(concurrency)]


def skopeo_command(src: str, dst: str, dataset: Dataset, work: Path, concurrency: int) -> list[str]:
    config = work / f"skopeo-{dataset.name}.yaml"
    config.write_text(
        yaml.safe_dump({src: {"tls-verify": False, "images-by-tag-regex": {r: ".*" for r in dataset.tags}}})
    )
    return [
        "skopeo",
        "sync",
        "--src",
        "yaml",
        "--dest",
        "docker",
        "--dest-tls-verify=false",
        "--all",
        str(config),
        f"{dst}/{dataset.name}",
    ]


def floor_command(src: str, dst: str, dataset: Dataset, work: Path, concurrency: int) -> list[str]:
    """Each unique blob crosses once: a source GET piped by curl into a destination PUT, N at a time."""
    listing = work / f"floor-{dataset.name}.txt"
    listing.write_text("".join(f"{repo} {digest}\n" for digest, (repo, _) in dataset.blobs.items()))
    script = (
        f'loc=$(curl -sSf -i -X POST "http://{dst}/v2/floor/blobs/uploads/" | tr -d "\\r" '
        '| sed -n "s/^[Ll]ocation: //p"); '
        f'curl -sSf "http://{src}/v2/$0/blobs/$1" | curl -sSf -X PUT -H "Content-Type: application/octet-stream" '
        '-T - "${loc}&digest=$1" > /dev/null'
    )
    return ["bash", "-c", f"xargs -P {concurrency} -n 2 bash -c '{script}' < {listing}"]


CONTENDERS = {
    "regcopy": Contender("regcopy", regcopy_command),
    "skopeo": Contender("skopeo", skopeo_command),
    "floor": Contender("floor", floor_command),
}


# -- measuring -------------------------------------------------------------------------------------


@dataclass
class Run:
    dataset: str
    scenario: str
    contender: str
    wall: float
    cpu: float
    peak_rss_mib: float
    bytes: int
    requests: int
    ok: bool


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of ``argv`` and everything it waited for."""
    begin = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - begin
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(errors.decode(errors="replace")[-2000:])
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.src = RegistryServer(root, name="src").start()
        self.dst = RegistryServer(root, name="dst").start()
        self.work = root / "work"
        self.work.mkdir(exist_ok=True)
        self.env = {**os.environ, "REGCOPY_INSECURE_REGISTRIES": ""}

    def close(self) -> None:
        self.src.stop()
        self.dst.stop()

    def empty_destination(self) -> None:
        self.dst.stop()
        shutil.rmtree(self.dst.root / "data", ignore_errors=True)
        self.dst.log_path.unlink(missing_ok=True)
        self.dst.start(keep_port=True)

    def seed(self, names: list[str]) -> list[Dataset]:
        seeder = Seeder(self.src.host)
        try:
            return [SEEDERS[name](seeder) for name in names]
        finally:
            seeder.close()

    def one(self, dataset: Dataset, scenario: str, contender: Contender, concurrency: int) -> Run:
        argv = contender.command(self.src.host, self.dst.host, dataset, self.work, concurrency)
        before = len(self.src.requests()) + len(self.dst.requests())
        wall, cpu, rss, code = measure(argv, self.env)
        after = len(self.src.requests()) + len(self.dst.requests())
        moved = dataset.unique_bytes if scenario == "full" else 0
        return Run(
            dataset.name,
            scenario,
            contender.name,
            round(wall, 3),
            round(cpu, 3),
            round(rss, 1),
            moved,
            after - before - 2,
            code == 0,
        )


def summarise(runs: list[Run]) -> list[dict[str, object]]:
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.dataset, run.scenario, run.contender), []).append(run)
    rows = []
    for (dataset, scenario, contender), group in groups.items():
        wall = statistics.median(r.wall for r in group)
        rows.append(
            {
                "dataset": dataset,
                "scenario": scenario,
                "contender": contender,
                "runs": len(group),
                "ok": all(r.ok for r in group),
                "wall_s": round(wall, 2),
                "cpu_s": round(statistics.median(r.cpu for r in group), 2),
                "peak_rss_mib": max(r.peak_rss_mib for r in group),
                "mb": round(group[0].bytes / MB, 1),
                "mb_per_s": round(group[0].bytes / MB / wall, 1) if group[0].bytes else None,
                "requests": int(statistics.median(r.requests for r in group)),
            }
        )
    for row in rows:
        peers = {r["contender"]: r for r in rows if (r["dataset"], r["scenario"]) == (row["dataset"], row["scenario"])}
        for peer in ("floor", "skopeo"):
            if peer in peers and peer != row["contender"] and peers[peer]["wall_s"]:
                row[f"vs_{peer}"] = round(float(row["wall_s"]) / float(peers[peer]["wall_s"]), 2)  # type: ignore[arg-type]
    return sorted(rows, key=lambda r: (str(r["dataset"]), str(r["scenario"]), str(r["contender"])))


def markdown(rows: list[dict[str, object]]) -> str:
    head = (
        "| dataset | scenario | contender | runs | median wall (s) | CPU (s) | peak RSS (MiB) | MB | MB/s "
        "| requests | x floor | x skopeo |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['scenario']} | {r['contender']}{'' if r['ok'] else ' (FAILED)'} | {r['runs']}"
            f" | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mib']} | {r['mb']} | {r['mb_per_s'] or '—'}"
            f" | {r['requests']} | {r.get('vs_floor', '—')} | {r.get('vs_skopeo', '—')} |"
        )
    return head + "\n".join(lines) + "\n"


def run(datasets: list[str], contenders: list[str], repeat: int, concurrency: int, out: Path | None) -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="regcopy-bench-") as tmp:
        bench = Bench(Path(tmp))
        try:
            seeded = bench.seed(datasets)
            runs: list[Run] = []
            for _ in range(repeat):
                for dataset in seeded:
                    for name in contenders:
                        contender = CONTENDERS[name]
                        bench.empty_destination()
                        runs.append(bench.one(dataset, "full", contender, concurrency))
                        if name != "floor":  # the floor has no notion of "already there"
                            runs.append(bench.one(dataset, "noop", contender, concurrency))
                        print(f"{dataset.name}: {name} done", file=sys.stderr, flush=True)
        finally:
            bench.close()
    rows = summarise(runs)
    table = markdown(rows)
    print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "machine": {"cpus": os.cpu_count()},
                    "concurrency": concurrency,
                    "rows": rows,
                    "runs": [asdict(r) for r in runs],
                },
                indent=2,
            )
        )
    return 0 if all(r["ok"] for r in rows) else 1
