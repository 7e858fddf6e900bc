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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from tests.seed import Seeder, random_layer
from tests.servers.registry import RegistryServer

from benchmarks.linkproxy import LinkProxy

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


def skopeo_copy_command(src: str, dst: str, dataset: Dataset, work: Path, concurrency: int) -> list[str]:
    """``skopeo copy --all`` once per tag, ``concurrency`` copies at a time (skopeo has no bulk mode but sync)."""
    listing = work / f"skopeo-copy-{dataset.name}.txt"
    listing.write_text("".join(f"{repo}:{tag}\n" for repo, tags in sorted(dataset.tags.items()) for tag in tags))
    script = (
        "skopeo copy --all --src-tls-verify=false --dest-tls-verify=false -q"
        f' "docker://{src}/$0" "docker://{dst}/$0" > /dev/null'
    )
    return ["bash", "-c", f"xargs -P {concurrency} -n 1 bash -c '{script}' < {listing}"]


CONTENDERS = {
    "regcopy": Contender("regcopy", regcopy_command),
    "skopeo": Contender("skopeo", skopeo_command),
    "skopeo-copy": Contender("skopeo-copy", skopeo_copy_command),
    "floor": Contender("floor", floor_command),
}


# -- measuring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """Latency added each way (ms) and a bandwidth cap (MB/s) between the copier and both registries."""

    latency_ms: float = 0.0
    mbps: float | None = None

    @property
    def active(self) -> bool:
        return self.latency_ms > 0 or self.mbps is not None

    def __str__(self) -> str:
        if not self.active:
            return "loopback"
        return f"{self.latency_ms:g} ms each way" + (f", {self.mbps:g} MB/s" if self.mbps else "")

    @classmethod
    def parse(cls, text: str | None) -> Link:
        """``20`` (ms each way) or ``20,100`` (ms each way, MB/s)."""
        if not text:
            return cls()
        latency, _, mbps = text.partition(",")
        return cls(float(latency), float(mbps) if mbps else None)


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
    tags: int
    ok: bool


def measure(argv: list[str], env: dict[str, str], work: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of ``argv`` and everything it waited for (see rusage.py)."""
    result, errors = work / "rusage.json", work / "stderr.txt"
    with errors.open("wb") as stderr:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.rusage", str(result), *argv], env=env, stderr=stderr, check=False
        )
    measured = json.loads(result.read_text())
    if measured["code"] != 0:
        sys.stderr.write(errors.read_text(errors="replace")[-2000:])
    return measured["wall"], measured["cpu"], measured["rss_mib"], measured["code"]


class Bench:
    """Two registries (optionally behind link proxies) and a work directory."""

    def __init__(self, root: Path, link: Link = Link()) -> None:
        self.root = root
        self.src = RegistryServer(root, name="src").start()
        self.dst = RegistryServer(root, name="dst").start()
        self.work = root / "work"
        self.work.mkdir(exist_ok=True)
        self.env = {**os.environ, "REGCOPY_INSECURE_REGISTRIES": ""}
        self.link = link
        self.proxies: list[LinkProxy] = []
        if link.active:
            bandwidth = link.mbps * MB if link.mbps else None
            for server in (self.src, self.dst):
                proxy = LinkProxy("127.0.0.1", server.port, latency=link.latency_ms / 1000, bandwidth=bandwidth)
                self.proxies.append(proxy.start())

    @property
    def hosts(self) -> tuple[str, str]:
        """Where the contenders connect: the registries, or the proxies in front of them."""
        if self.proxies:
            return self.proxies[0].host, self.proxies[1].host
        return self.src.host, self.dst.host

    def close(self) -> None:
        for proxy in self.proxies:
            proxy.stop()
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

    def one(
        self, dataset: Dataset, scenario: str, contender: Contender, concurrency: int, extra: list[str] | None = None
    ) -> Run:
        src, dst = self.hosts
        argv = contender.command(src, dst, dataset, self.work, concurrency) + (extra or [])
        before = len(self.src.requests()) + len(self.dst.requests())
        wall, cpu, rss, code = measure(argv, self.env, self.work)
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
            after - before - 2,  # each requests() call sends one marker request
            dataset.tag_count,
            code == 0,
        )


def summarise(runs: list[Run]) -> list[dict[str, object]]:
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.dataset, run.scenario, run.contender), []).append(run)
    rows = []
    for (dataset, scenario, contender), group in groups.items():
        wall = statistics.median(r.wall for r in group)
        requests = int(statistics.median(r.requests for r in group))
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
                "requests": requests,
                "requests_per_tag": round(requests / group[0].tags, 2),
            }
        )
    for row in rows:
        peers = {r["contender"]: r for r in rows if (r["dataset"], r["scenario"]) == (row["dataset"], row["scenario"])}
        for peer in ("floor", "skopeo", "skopeo-copy"):
            if peer in peers and peer != row["contender"] and peers[peer]["wall_s"]:
                row[f"vs_{peer}"] = round(float(row["wall_s"]) / float(peers[peer]["wall_s"]), 2)  # type: ignore[arg-type]
    return sorted(rows, key=lambda r: (str(r["dataset"]), str(r["scenario"]), str(r["contender"])))


def markdown(rows: list[dict[str, object]]) -> str:
    head = (
        "| dataset | scenario | contender | runs | median wall (s) | CPU (s) | peak RSS (MiB) | MB | MB/s "
        "| requests (per tag) | x floor | x skopeo sync | x skopeo copy |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['scenario']} | {r['contender']}{'' if r['ok'] else ' (FAILED)'} | {r['runs']}"
            f" | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mib']} | {r['mb']} | {r['mb_per_s'] or '—'}"
            f" | {r['requests']} ({r['requests_per_tag']}) | {r.get('vs_floor', '—')} | {r.get('vs_skopeo', '—')}"
            f" | {r.get('vs_skopeo-copy', '—')} |"
        )
    return head + "\n".join(lines) + "\n"


def machine() -> dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    skopeo = subprocess.run(["skopeo", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu": model, "python": sys.version.split()[0], "skopeo": skopeo}


def run(
    datasets: list[str],
    contenders: list[str],
    repeat: int,
    concurrency: int,
    out: Path | None,
    link: Link = Link(),
    scenarios: tuple[str, ...] = ("full", "noop"),
) -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="regcopy-bench-") as tmp:
        bench = Bench(Path(tmp), link)
        try:
            seeded = bench.seed(datasets)
            runs: list[Run] = []
            for _ in range(repeat):
                for dataset in seeded:
                    for name in contenders:
                        contender = CONTENDERS[name]
                        bench.empty_destination()
                        runs.append(bench.one(dataset, "full", contender, concurrency))
                        if "noop" in scenarios and name != "floor":  # the floor has no notion of "already there"
                            runs.append(bench.one(dataset, "noop", contender, concurrency))
                        print(f"{dataset.name}: {name} done", file=sys.stderr, flush=True)
        finally:
            bench.close()
    rows = summarise(runs)
    table = markdown(rows)
    print(f"link: {link}; concurrency {concurrency}; {repeat} runs each, alternating\n")
    print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "link": str(link),
                    "concurrency": concurrency,
                    "rows": rows,
                    "runs": [asdict(r) for r in runs],
                },
                indent=2,
            )
        )
    return 0 if all(r["ok"] for r in rows) else 1


Trial = Callable[[int, int, int], tuple[float, int]]  # (buffer, concurrency, attempt) -> (wall s, bytes moved)


def _local_trials(bench: Bench, dataset: Dataset) -> Trial:
    def trial(buffer: int, concurrency: int, attempt: int) -> tuple[float, int]:
        bench.empty_destination()
        extra = ["--jobs", str(max(concurrency, 8)), "--read-buffer", str(buffer)]
        result = bench.one(dataset, "full", CONTENDERS["regcopy"], concurrency, extra)
        if not result.ok:
            raise SystemExit("regcopy failed during the sweep")
        return result.wall, dataset.unique_bytes

    return trial


def _remote_trials(source: str, destination: str, work: Path, insecure: list[str]) -> Trial:
    """Copy ``source`` (a registry or namespace prefix) into a fresh ``destination/tune-...`` prefix per trial."""

    def trial(buffer: int, concurrency: int, attempt: int) -> tuple[float, int]:
        target = f"{destination.rstrip('/')}/tune-j{concurrency}-b{buffer // 1024}k-{attempt}/"
        config, report = work / "tune.json", work / "tune-report.json"
        config.write_text(json.dumps({"jobs": [{"source": source.rstrip("/") + "/", "destination": target}]}))
        argv = [sys.executable, "-m", "regcopy.cli", "sync", str(config), "-q", "--no-cache", "--report", str(report)]
        argv += ["-j", str(concurrency), "--jobs", str(max(concurrency, 8)), "--read-buffer", str(buffer)]
        argv += [f"--insecure-registry={host}" for host in insecure]
        wall, _, _, code = measure(argv, dict(os.environ), work)
        if code != 0:
            raise SystemExit("regcopy failed during the sweep")
        return wall, int(json.loads(report.read_text())["summary"]["bytes_uploaded"])

    return trial


def tune(
    dataset_name: str,
    concurrencies: list[int],
    buffers: list[int],
    repeat: int,
    link: Link,
    plot: Path | None,
    source: str | None = None,
    destination: str | None = None,
    insecure: list[str] | None = None,
) -> int:
    """Sweep regcopy's blob concurrency and read-ahead buffer; print the best settings.

    On a dataset seeded into local registries (optionally behind a link), or, with ``source`` and
    ``destination``, against given registries: each trial copies ``source`` into a new prefix under
    ``destination`` (delete those repositories afterwards).
    """
    import tempfile

    walls: dict[tuple[int, int], list[float]] = {}
    moved: dict[tuple[int, int], int] = {}
    with tempfile.TemporaryDirectory(prefix="regcopy-tune-") as tmp:
        bench = None
        if source and destination:
            trial = _remote_trials(source, destination, Path(tmp), insecure or [])
            what = f"{source} -> {destination}"
        else:
            bench = Bench(Path(tmp), link)
            (dataset,) = bench.seed([dataset_name])
            trial = _local_trials(bench, dataset)
            what = (
                f"dataset {dataset_name} ({dataset.unique_bytes / MB:.0f} MB, {dataset.tag_count} tags), link: {link}"
            )
        try:
            for attempt in range(repeat):
                for buffer in buffers:
                    for concurrency in concurrencies:
                        wall, nbytes = trial(buffer, concurrency, attempt)
                        walls.setdefault((buffer, concurrency), []).append(wall)
                        moved[(buffer, concurrency)] = nbytes
                        print(f"buffer {buffer} concurrency {concurrency}: {wall:.2f}s", file=sys.stderr)
        finally:
            if bench is not None:
                bench.close()
    throughput = {key: moved[key] / MB / statistics.median(w) for key, w in walls.items()}
    (best_buffer, best_concurrency), best = max(throughput.items(), key=lambda item: item[1])
    # The smallest concurrency within 5% of the best: more buys nothing but load on the registries.
    enough = min(c for (b, c), mbps in throughput.items() if b == best_buffer and mbps >= 0.95 * best)
    print(what)
    print("| read buffer | " + " | ".join(f"-j {c}" for c in concurrencies) + " |")
    print("|---|" + "---|" * len(concurrencies))
    for buffer in buffers:
        cells = " | ".join(f"{throughput[(buffer, c)]:.1f}" for c in concurrencies)
        print(f"| {buffer // 1024} KiB | {cells} |")
    print(
        f"\nbest: {best:.1f} MB/s at --concurrency {best_concurrency} --read-buffer {best_buffer};"
        f" use --concurrency {enough} --read-buffer {best_buffer} on this machine and link"
    )
    if plot is not None:
        draw(plot, throughput, concurrencies, buffers, what if source else f"{dataset_name}, {link}")
    return 0


def draw(
    path: Path, throughput: dict[tuple[int, int], float], concurrencies: list[int], buffers: list[int], title: str
) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is missing (bash scripts/bench.sh installs it)", file=sys.stderr)
        return
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    for buffer in buffers:
        axes.plot(
            concurrencies,
            [throughput[(buffer, c)] for c in concurrencies],
            marker="o",
            label=f"read buffer {buffer // 1024} KiB",
        )
    axes.set_xscale("log", base=2)
    axes.set_xticks(concurrencies, [str(c) for c in concurrencies])
    axes.set_xlabel("blobs in flight (--concurrency)")
    axes.set_ylabel("MB/s (unique bytes / wall time)")
    axes.set_title(f"regcopy sync throughput: {title}")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    print(f"plot written to {path}", file=sys.stderr)
