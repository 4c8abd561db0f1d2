"""Named random streams: master seed -> replication -> one generator per activity name.

A stream's seed depends only on (master seed, replication, name), never on the order in which
streams are created, so adding a stream leaves every other stream unchanged.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 64-bit integer for a stream name (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


class Streams:
    """The generators of one replication, created on first use and keyed by name."""

    def __init__(self, master_seed: int, replication: int):
        self.master_seed = int(master_seed)
        self.replication = int(replication)
        self._generators: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        rng = self._generators.get(name)
        if rng is None:
            seq = np.random.SeedSequence(
                entropy=self.master_seed, spawn_key=(self.replication, stream_key(name))
            )
            rng = self._generators[name] = np.random.Generator(np.random.PCG64(seq))
        return rng

    def keyed(self, name: str, *key: int) -> np.random.Generator:
        """A fresh generator for `name` and an integer key (e.g. a spell and a block of person
        ids): the same draws whenever it is asked for, in whatever order, and not cached."""
        seq = np.random.SeedSequence(
            entropy=self.master_seed, spawn_key=(self.replication, stream_key(name), *key)
        )
        return np.random.Generator(np.random.PCG64(seq))

