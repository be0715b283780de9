"""Today's live counters for the supervisor dashboard (local day in the center's time zone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select

from helpdesk.db import Database
from helpdesk.metrics.open_counts import read_open_counts
from helpdesk.metrics.sql import channel_group
from helpdesk.metrics.weekly import REPORT_CHANNELS, Filters
from helpdesk.models import OPEN_STATUSES, Agent, Ticket


@dataclass
class LiveCounters:
    created_today: int = 0
    created_by_channel: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(REPORT_CHANNELS, 0)
    )
    resolved_today: int = 0
    open: int = 0  # new or open: someone should be working on it
    pending: int = 0  # waiting for the citizen, SLA clock stopped
    unassigned: int = 0
    breached_open: int = 0
    agents_online: int = 0


def from_kept_counts(filters: Filters) -> bool:
    """Whether the unassigned count comes from the kept open counts (per queue and assignee,
    migration 0034) and the open tickets' totals from ix_tickets_sla_watch alone (migration 0036):
    unfiltered or by queue. A channel or category filter reads the open tickets' rows."""
    return filters.channel is None and filters.category is None


def open_totals(now: datetime, filters: Filters) -> Select[Any]:
    """One row: open (new or open), pending, past a target now (whether or not the SLA watch has
    recorded it yet) and, unless `from_kept_counts`, unassigned, of the open tickets."""
    t = Ticket.__table__.c
    running = t.status.in_(("new", "open"))
    past_target = or_(
        t.sla_breached_at.is_not(None),
        and_(running, t.first_response_at.is_(None), t.first_response_due_at <= now),
        and_(running, t.resolution_due_at <= now),
    )
    sums = [
        func.sum(case((running, 1), else_=0)),
        func.sum(case((t.status == "pending", 1), else_=0)),
        func.sum(case((past_target, 1), else_=0)),
    ]
    if not from_kept_counts(filters):
        sums.append(func.sum(case((t.assignee_id.is_(None), 1), else_=0)))
    return select(*sums).where(*filters.conditions(), t.status.in_(OPEN_STATUSES))


def live_counters(db: Database, now: datetime, tz: ZoneInfo, filters: Filters) -> LiveCounters:
    t = Ticket.__table__.c
    today = now.astimezone(tz).date()
    midnight = datetime.combine(today, time(0), tzinfo=tz).astimezone(UTC)
    tomorrow = datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    where = filters.conditions()
    counters = LiveCounters()
    with db.session() as session:
        chan = channel_group(t.channel)
        for channel, count in session.execute(
            select(chan, func.count())
            .where(*where, t.created_at >= midnight, t.created_at < tomorrow)
            .group_by(chan)
        ):
            counters.created_by_channel[channel] = count
            counters.created_today += count
        counters.resolved_today = session.scalar(
            select(func.count()).where(*where, t.resolved_at >= midnight, t.resolved_at < tomorrow)
        ) or 0
        row = session.execute(open_totals(now, filters)).one()
        counters.open, counters.pending, counters.breached_open = (int(v or 0) for v in row[:3])
        if len(row) > 3:
            counters.unassigned = int(row[3] or 0)
        counters.agents_online = session.scalar(
            select(func.count()).where(and_(Agent.online.is_(True), Agent.active.is_(True)))
        ) or 0
    if from_kept_counts(filters):
        counters.unassigned = sum(
            n
            for (queue, assignee_id), n in read_open_counts(db).items()
            if assignee_id is None and filters.queue in (None, queue)
        )
    return counters
