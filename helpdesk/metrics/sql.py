"""SQL pieces that differ between SQLite and PostgreSQL, kept in one place."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Subquery,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)

from helpdesk.metrics.weeks import Week
from helpdesk.models import UTCDateTime


def seconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[int]:
    """Whole seconds from `earlier` to `later` (both naive-UTC timestamp columns)."""
    if dialect == "postgresql":
        return cast(func.round(func.extract("epoch", later - earlier)), Integer)
    # julianday() has ~10 microsecond resolution at today's dates: rounding gives exact seconds.
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0), Integer)


def weeks_subquery(weeks: Sequence[Week], until: datetime | None = None) -> Subquery:
    """A derived table (idx, week, ws, we) the ticket rows are joined to by time range.

    `until` cuts the ranges off at that instant. (Do that here, not with an extra `column <= now`
    condition: SQLite would take that bound for its index range and scan to `now` for every week.)
    """
    rows = [
        select(
            literal(i, Integer).label("idx"),
            literal(w.label, String).label("week"),
            literal(w.start, UTCDateTime()).label("ws"),
            literal(w.end if until is None else max(w.start, min(w.end, until)), UTCDateTime())
            .label("we"),
        )
        for i, w in enumerate(weeks)
    ]
    query = rows[0] if len(rows) == 1 else union_all(*rows)
    return query.subquery("weeks")


def channel_group(channel: Any) -> ColumnElement[str]:
    # SMS and voice calls both reach us through the phone line: one "phone" channel on reports.
    return case((channel == "sms", "phone"), else_=channel)
