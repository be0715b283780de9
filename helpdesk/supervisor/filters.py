"""Reading the dashboard's and the API's query string: weeks and filters, with clear errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpdesk.db import Database
from helpdesk.metrics import REPORT_CHANNELS, Filters, Week, WeekError, parse_week, resolve_weeks
from helpdesk.metrics.weekly import UNCATEGORIZED, WeekFigures
from helpdesk.metrics.weeks import previous, week_of
from helpdesk.models import Queue, Ticket

MAX_NAME = 64


class FilterError(ValueError):
    """A query-string value that cannot be used; the message names the parameter."""


@dataclass(frozen=True)
class Query:
    weeks: list[Week]
    filters: Filters
    first: str  # the labels as given or defaulted, to fill the form again
    last: str


def current_week(now: datetime, tz: ZoneInfo) -> Week:
    return week_of(now.astimezone(tz).date(), tz)


def read_query(
    args: Mapping[str, str], now: datetime, tz: ZoneInfo, complete_weeks: bool = False
) -> Query:
    first = (args.get("from") or "").strip() or None
    last = (args.get("to") or "").strip() or None
    try:
        if last is None and complete_weeks:
            # End with the last complete week: the current one is shown apart, as "so far".
            last = previous(current_week(now, tz), tz).label
            if first is not None and parse_week(first, tz).monday > parse_week(last, tz).monday:
                last = first
        weeks = resolve_weeks(first, last, now, tz)
    except WeekError as exc:
        raise FilterError(str(exc)) from None
    channel = (args.get("channel") or "").strip() or None
    if channel is not None and channel not in REPORT_CHANNELS:
        raise FilterError(f"channel must be one of {', '.join(REPORT_CHANNELS)}")
    queue = (args.get("queue") or "").strip() or None
    category = (args.get("category") or "").strip() or None
    for name, value in (("queue", queue), ("category", category)):
        if value is not None and len(value) > MAX_NAME:
            raise FilterError(f"{name} is longer than {MAX_NAME} characters")
    return Query(weeks, Filters(channel, queue, category), weeks[0].label, weeks[-1].label)


def filter_choices(db: Database, since: datetime) -> tuple[list[str], list[str]]:
    """Queues (configured and seen) and the categories seen since `since`."""
    t = Ticket.__table__.c
    with db.session() as s:
        queues = set(s.scalars(select(Queue.name)).all())
        # The created_at range keeps this on the covering report index, not a table scan. On
        # SQLite the columns are wrapped (`x || ''`, same value, NULL stays NULL): for DISTINCT
        # its planner otherwise scanned all of ix_tickets_queue_status (1.1 s at a million).
        queue: Any = t.queue
        category: Any = t.category
        if db.dialect == "sqlite":
            queue, category = queue.op("||")(""), category.op("||")("")
        recent = select(queue, category).where(t.created_at >= since).distinct().limit(500)
        seen = s.execute(recent).all()
    queues.update(q for q, _ in seen if q)
    categories = {c for _, c in seen if c}
    return sorted(queues), sorted(categories)


def choices_from_figures(db: Database, figures: Sequence[WeekFigures]) -> tuple[list[str], list[str]]:
    """`filter_choices` from the unfiltered figures of every week since `since` up to now (the
    dashboard's complete weeks and this week so far): their tickets' queues and categories are
    what `filter_choices` would read again from the tickets (~230,000 index entries at a million).
    Merged-away tickets are left out of the figures, so a category seen only on those is not
    offered (filtering by it would show nothing)."""
    with db.session() as s:
        queues = set(s.scalars(select(Queue.name)).all())
    categories: set[str] = set()
    for fig in figures:
        queues.update(q for q, n in fig.by_queue.items() if q and n)
        categories.update(c for c, n in fig.by_category.items() if c and n and c != UNCATEGORIZED)
    return sorted(queues), sorted(categories)
