"""The per-agent rollups' packed durations give back exactly what was packed, and their joint
median is the nearest-rank median of all the values (the definition of `agent_figures`)."""

from __future__ import annotations

import random

import numpy as np

from helpdesk.metrics.packed import EMPTY, nearest_rank_median, pack, unpack


def test_packed_durations_come_back_exactly() -> None:
    rng = random.Random(20261201)
    cases = [
        [],
        [0],
        [-5, -5, 0, 7],  # a clock set back: a negative duration is kept as it is
        [2**62, -(2**62)],  # far outside any real duration, still exact
        [rng.randrange(3 * 86400) for _ in range(5000)],
        [rng.choice((60, 3600)) for _ in range(300)],  # many equal values
    ]
    for values in cases:
        ordered = np.array(sorted(values), dtype=np.int64)
        text = pack(ordered)
        assert isinstance(text, str) and text.isascii()
        back = unpack(text)
        assert back.dtype == np.int64
        assert back.tolist() == sorted(values)


def test_joint_median_is_the_nearest_rank_median_of_all_values() -> None:
    rng = random.Random(7)
    assert nearest_rank_median([]) is None
    assert nearest_rank_median([EMPTY, EMPTY]) is None
    for _ in range(200):
        parts = [
            np.array(sorted(rng.randrange(-10, 100) for _ in range(rng.randrange(6))), dtype=np.int64)
            for _ in range(rng.randrange(1, 5))
        ]
        every = sorted(v for part in parts for v in part.tolist())
        expected = every[(len(every) + 1) // 2 - 1] if every else None
        median = nearest_rank_median([unpack(pack(part)) for part in parts])
        assert median == expected
        assert median is None or type(median) is int
