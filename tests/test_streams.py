"""Named random streams: a stream depends on (seed, replication, name) only."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from sim.model.streams import Streams

SEED, REP = 20251123, 4


def draws(streams: Streams, name: str, n: int = 8) -> np.ndarray:
    return streams[name].random(n)


def test_same_name_same_numbers_whatever_was_created_before():
    alone = draws(Streams(SEED, REP), "front_door.pathway")

    crowded = Streams(SEED, REP)
    for other in ("zeta", "front_door.diversion", "community.bed_times", "a"):
        crowded[other].random(1000)  # other streams created and used first
    np.testing.assert_array_equal(draws(crowded, "front_door.pathway"), alone)


def test_creation_order_does_not_matter():
    names = ["a", "b", "c", "d"]
    forward, backward = Streams(SEED, REP), Streams(SEED, REP)
    first = {n: draws(forward, n) for n in names}
    second = {n: draws(backward, n) for n in reversed(names)}
    for n in names:
        np.testing.assert_array_equal(first[n], second[n])


def test_interleaved_use_of_other_streams_does_not_shift_a_stream():
    plain = Streams(SEED, REP)["x"].random(6)
    mixed = Streams(SEED, REP)
    part1 = mixed["x"].random(3)
    mixed["y"].random(17)
    part2 = mixed["x"].random(3)
    np.testing.assert_array_equal(np.concatenate([part1, part2]), plain)


def test_a_stream_continues_rather_than_restarting():
    s = Streams(SEED, REP)
    assert s["x"] is s["x"]
    first, second = s["x"].random(5), s["x"].random(5)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(
    "other",
    [
        (SEED, REP, "front_door.diversion"),  # different name
        (SEED, REP, "front_door.pathway "),  # name differing by one character
        (SEED, REP + 1, "front_door.pathway"),  # different replication
        (SEED + 1, REP, "front_door.pathway"),  # different seed
        (REP, SEED, "front_door.pathway"),  # seed and replication swapped
    ],
    ids=["name", "name+space", "replication", "seed", "swapped"],
)
def test_different_key_gives_different_numbers(other):
    base = draws(Streams(SEED, REP), "front_door.pathway")
    seed, rep, name = other
    assert not np.array_equal(draws(Streams(seed, rep), name), base)


def test_all_keys_of_a_small_grid_are_distinct():
    seen = set()
    for seed in (0, 1, 2):
        for rep in (0, 1, 2):
            for name in ("a", "b", "arrivals"):
                seen.add(tuple(draws(Streams(seed, rep), name, 4)))
    assert len(seen) == 27


def test_streams_look_independent_and_uniform():
    """Two named streams are uncorrelated and uniform: with n = 100,000 the correlation has
    standard error 1/sqrt(n) and the mean 1/sqrt(12 n); both checked to 5 standard errors."""
    n = 100_000
    s = Streams(SEED, REP)
    a, b = s["front_door.pathway"].random(n), s["front_door.diversion"].random(n)
    assert abs(np.corrcoef(a, b)[0, 1]) <= 5 / math.sqrt(n)
    assert abs(a.mean() - 0.5) <= 5 / math.sqrt(12 * n)
    # same name in consecutive replications must not be correlated either
    c = Streams(SEED, REP + 1)["front_door.pathway"].random(n)
    assert abs(np.corrcoef(a, c)[0, 1]) <= 5 / math.sqrt(n)


def test_streams_are_the_same_in_another_process():
    """The name -> seed map must not use Python's salted hash(): a worker process (another
    PYTHONHASHSEED) must draw the same numbers for the same key."""
    code = (
        "import json, sys; from sim.model.streams import Streams; "
        f"print(json.dumps(Streams({SEED}, {REP})['front_door.arrival_times'].random(5).tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    here = Streams(SEED, REP)["front_door.arrival_times"].random(5).tolist()
    assert json.loads(out.stdout) == here
