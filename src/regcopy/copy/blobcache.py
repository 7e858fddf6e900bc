"""Where blobs live on each registry, remembered across runs in a small SQLite file.

A later run (or another process running beside this one) can then mount a blob
from a repository it saw earlier instead of uploading it again. The cache is a
hint: a stale entry only costs a mount attempt that the registry answers with a
normal upload session, and any SQLite trouble (a locked or corrupt file) turns
the cache off for the run rather than failing it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections import defaultdict
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blob_locations (
    host TEXT NOT NULL,
    digest TEXT NOT NULL,
    repository TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (host, digest, repository)
)
"""
_FLUSH_EVERY = 256
_CANDIDATES = 5


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "regcopy"


class BlobCache:
    """Persistent (host, digest) -> repositories map; safe to share between processes (WAL, busy timeout)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or default_cache_dir()) / "blobs.sqlite"
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str, str, float]] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            self._db = db
        except (OSError, sqlite3.Error) as exc:
            log.warning("blob location cache %s unusable (%s); continuing without it", self.path, exc)

    def __repr__(self) -> str:
        return f"BlobCache(path={str(self.path)!r})"

    def lookup(self, host: str, digest: str) -> list[str]:
        if self._db is None:
            return []
        try:
            rows = self._db.execute(
                "SELECT repository FROM blob_locations WHERE host=? AND digest=? ORDER BY seen_at DESC LIMIT ?",
                (host, digest, _CANDIDATES),
            ).fetchall()
        except sqlite3.Error as exc:
            self._disable(exc)
            return []
        return [row[0] for row in rows]

    def record(self, host: str, digest: str, repository: str) -> None:
        if self._db is None:
            return
        self._pending.append((host, digest, repository, time.time()))
        if len(self._pending) >= _FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self._db is None or not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO blob_locations VALUES (?, ?, ?, ?)", pending)
        except sqlite3.Error as exc:
            self._disable(exc)

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _disable(self, exc: sqlite3.Error) -> None:
        log.warning("blob location cache %s failed (%s); continuing without it", self.path, exc)
        if self._db is not None:
            self._db.close()
        self._db = None


class BlobLocations:
    """Where blobs are known to live, learned from HEADs, mounts and uploads; backed by a cache if given."""

    def __init__(self, cache: BlobCache | None = None) -> None:
        self._where: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.cache = cache

    def add(self, host: str, digest: str, repository: str) -> None:
        known = self._where[(host, digest)]
        if repository not in known:
            known.add(repository)
            if self.cache is not None:
                self.cache.record(host, digest, repository)

    def known(self, host: str, digest: str) -> bool:
        return bool(self._where.get((host, digest)))

    def seen_in(self, host: str, digest: str, repository: str) -> bool:
        """Seen in this run in exactly this repository (never answered from the persistent cache)."""
        return repository in self._where.get((host, digest), ())

    def repositories(self, host: str, digest: str) -> list[str]:
        found = sorted(self._where.get((host, digest), ()))
        if self.cache is not None:
            found += [r for r in self.cache.lookup(host, digest) if r not in found]
        return found

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
