"""Nearest-rank median and 90th percentile of the seconds from creation to a time, week by week.

The database joins each week's durations into one text (``group_concat`` / ``string_agg``, no
sorting there) and numpy picks the two ranks (``np.partition``). On SQLite this replaced one
window query per week (``row_number() OVER (ORDER BY secs)``): sorting a week's rows in the
database cost more than the read itself, and the weeks a change touched are recomputed on the
request right after it (issue 14: ≤ 300 ms at a million tickets).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.orm import Session

from helpdesk.metrics.sql import seconds_between
from helpdesk.models import Ticket


class Found(dict[int, tuple[int, int, int]]):
    """(count, median, 90th percentile) of a week, by the week's index in the weeks subquery
    (weeks with no duration left out); `extras`: the `extra` aggregates of every week read."""

    def __init__(self) -> None:
        super().__init__()
        self.extras: dict[int, tuple[Any, ...]] = {}


def nearest_ranks(values: np.ndarray[Any, np.dtype[np.int64]]) -> tuple[int, int, int]:
    """(n, median, p90) by nearest rank: percentile p is the value of the smallest rank k (from 1)
    with k >= p * n, in integer maths as the SQL it replaced (2k >= n, 10k >= 9n)."""
    n = len(values)
    median, p90 = (n + 1) // 2, (9 * n + 9) // 10
    low, high = np.partition(values, [median - 1, p90 - 1])[[median - 1, p90 - 1]]
    return n, int(low), int(high)


def week_percentiles(
    session: Session, dialect: str, w: Any, at_column: Any, where: list[Any], extra: Sequence[Any] = ()
) -> Found:
    """For the weeks subquery `w`: the durations to `at_column` of the tickets it falls in the week,
    and per week the aggregates `extra` over the same rows (read once for both: the resolved
    tickets' SLA outcomes and csat), as `extras[idx]`."""
    t = Ticket.__table__.c
    secs = seconds_between(at_column, t.created_at, dialect)
    joined = (
        func.string_agg(cast(secs, Text), ",") if dialect == "postgresql" else func.group_concat(secs, ",")
    )
    rows = session.execute(
        select(w.c.idx, joined, *extra)
        .select_from(w.join(Ticket.__table__, and_(at_column >= w.c.ws, at_column < w.c.we)))
        .where(*where)
        .group_by(w.c.idx)
    )
    out = Found()
    for idx, text, *more in rows:
        if text:
            out[idx] = nearest_ranks(np.fromstring(text, dtype=np.int64, sep=","))
        out.extras[idx] = tuple(more)
    return out
