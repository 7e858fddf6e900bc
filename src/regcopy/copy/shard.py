"""Splitting one plan across N machines with no coordinator: ``--shard I/N``.

Jobs are assigned by a hash of their destination repository, so every tag of a
repository (and the blob sharing between its tags) stays in one shard, the
assignment does not depend on listing order, and a rerun gives every shard the
same jobs again. Kubernetes Indexed Jobs give each pod ``JOB_COMPLETION_INDEX``;
the number of shards comes from ``JOB_COMPLETIONS``, which the manifest sets to
the same value as ``spec.completions`` (Kubernetes does not expose it itself).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from regcopy.errors import RegcopyError

INDEX_ENV = "JOB_COMPLETION_INDEX"
COUNT_ENV = "JOB_COMPLETIONS"


class ShardError(RegcopyError):
    """A ``--shard`` value (or its environment) that does not name one shard of N."""


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str, environ: Any = None) -> Shard:
        """``I/N`` with 0 <= I < N (0-based, like ``JOB_COMPLETION_INDEX``), or ``auto``."""
        if text.strip().lower() == "auto":
            return cls.from_environment(os.environ if environ is None else environ)
        index, sep, count = text.partition("/")
        if not sep or not index.strip().isdigit() or not count.strip().isdigit():
            raise ShardError(f"invalid --shard {text!r}: use I/N, e.g. 0/4 (I counts from 0), or auto")
        return cls.checked(int(index), int(count), f"--shard {text}")

    @classmethod
    def from_environment(cls, environ: Any) -> Shard:
        index, count = environ.get(INDEX_ENV), environ.get(COUNT_ENV)
        if index is None or count is None:
            missing = " and ".join(n for n, v in ((INDEX_ENV, index), (COUNT_ENV, count)) if v is None)
            raise ShardError(
                f"--shard auto needs {missing} in the environment"
                " (an Indexed Job sets JOB_COMPLETION_INDEX; set JOB_COMPLETIONS to spec.completions)"
            )
        if not index.isdigit() or not count.isdigit():
            raise ShardError(f"--shard auto: {INDEX_ENV}={index!r} and {COUNT_ENV}={count!r} must be numbers")
        return cls.checked(int(index), int(count), f"{INDEX_ENV}={index} {COUNT_ENV}={count}")

    @classmethod
    def checked(cls, index: int, count: int, where: str) -> Shard:
        if count < 1 or not 0 <= index < count:
            raise ShardError(f"invalid shard ({where}): need 0 <= index < count and count >= 1")
        return cls(index, count)

    def owns(self, registry: str, repository: str) -> bool:
        """Whether jobs into ``registry/repository`` belong to this shard."""
        if self.count == 1:
            return True
        key = hashlib.sha256(f"{registry}/{repository}".encode()).digest()
        return int.from_bytes(key[:8], "big") % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
