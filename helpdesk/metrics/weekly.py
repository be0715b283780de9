"""Weekly service figures, every one computed by SQL aggregation in the database.

Definitions (what a supervisor reports to the ministry; a closed week's figures do not change
when later tickets move, except backlog and volume if tickets are re-queued or recategorized):

* **total / by_channel / by_category / by_queue / deflected** — tickets *created* in the week.
  SMS counts as phone. Deflected: chats the knowledge base answered (`deflected`).
  Tickets merged into another are left out everywhere (the surviving ticket counts once).
* **first_response** — tickets first answered in the week: seconds from creation to that answer,
  nearest-rank median and 90th percentile (the value below which 50 % / 90 % of them lie).
* **resolution** — tickets resolved in the week: seconds from creation to resolution (wall clock,
  what the citizen waited; the SLA below is the business-hours view).
* **sla_compliance** — of the SLA outcomes decided in the week, the share met. A ticket resolved
  by its resolution target is decided at its resolution (met when its first response was on
  time too); a ticket that missed the resolution target is decided, as a miss, in the week the
  target passed. A paused (pending) ticket is undecided until its clock runs out.
* **backlog** — tickets open (created, not yet resolved) at the end of the week.
* **csat** — mean satisfaction score (1-5) of tickets resolved in the week that were rated.
* **incident_linked** — tickets created in the week that are linked to an incident.
* **callbacks** — callbacks requested in the week and calls made in it by outcome (their own
  times, see ``helpdesk.metrics.callbacks``; a merged ticket's callbacks still count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.incidents.figures import linked_per_week
from helpdesk.metrics.callbacks import CallbackCounts, callbacks_per_week
from helpdesk.metrics.percentiles import week_percentiles
from helpdesk.metrics.sql import channel_group, weeks_subquery
from helpdesk.metrics.weeks import Week
from helpdesk.models import Ticket

REPORT_CHANNELS = ("phone", "chat", "email", "web", "viber")
UNCATEGORIZED = "uncategorized"


@dataclass(frozen=True)
class Filters:
    channel: str | None = None
    queue: str | None = None
    category: str | None = None

    def conditions(self, keep_merged: bool = False) -> list[Any]:
        """Conditions on tickets; merged-away tickets are left out unless ``keep_merged``."""
        t = Ticket.__table__.c
        where: list[Any] = [] if keep_merged else [t.merged_into_id.is_(None)]
        if self.channel == "phone":
            where.append(t.channel.in_(("phone", "sms")))
        elif self.channel:
            where.append(t.channel == self.channel)
        if self.queue:
            where.append(t.queue == self.queue)
        if self.category == UNCATEGORIZED:
            where.append(t.category.is_(None))
        elif self.category:
            where.append(t.category == self.category)
        return where


@dataclass
class Percentiles:
    median_seconds: int | None = None
    p90_seconds: int | None = None
    count: int = 0

    def to_json(self) -> dict[str, int | None]:
        return {"median_seconds": self.median_seconds, "p90_seconds": self.p90_seconds}


@dataclass
class WeekFigures:
    week: str
    total: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REPORT_CHANNELS, 0))
    by_category: dict[str, int] = field(default_factory=dict)
    by_queue: dict[str, int] = field(default_factory=dict)
    first_response: Percentiles = field(default_factory=Percentiles)
    resolution: Percentiles = field(default_factory=Percentiles)
    sla_met: int = 0
    sla_decided: int = 0
    backlog: int = 0
    deflected: int = 0
    csat: float | None = None
    csat_responses: int = 0
    incident_linked: int = 0
    callbacks: CallbackCounts = field(default_factory=CallbackCounts)

    @property
    def sla_compliance(self) -> float | None:
        return round(self.sla_met / self.sla_decided, 4) if self.sla_decided else None

    def to_store(self) -> dict[str, Any]:
        """Everything, counts included, for the weekly rollups (`from_store` reads it back)."""
        out = self.to_json()
        out.update(
            first_response=[*self.first_response.to_json().values(), self.first_response.count],
            resolution=[*self.resolution.to_json().values(), self.resolution.count],
            by_category=list(self.by_category.items()),  # keeps the order
            by_queue=list(self.by_queue.items()),
            sla_met=self.sla_met,
            sla_decided=self.sla_decided,
            csat_responses=self.csat_responses,
        )
        del out["sla_compliance"]
        return out

    @staticmethod
    def storable(data: dict[str, Any]) -> bool:
        """Whether a stored week has every figure: one stored before callbacks were counted is
        recomputed (and stored again), never read back with zeros it did not count."""
        return "callbacks" in data

    @classmethod
    def from_store(cls, data: dict[str, Any]) -> WeekFigures:
        return cls(
            week=data["week"],
            total=data["total"],
            by_channel=dict(data["by_channel"]),
            by_category=dict(data["by_category"]),
            by_queue=dict(data["by_queue"]),
            first_response=Percentiles(*data["first_response"]),
            resolution=Percentiles(*data["resolution"]),
            sla_met=data["sla_met"],
            sla_decided=data["sla_decided"],
            backlog=data["backlog"],
            deflected=data["deflected"],
            csat=data["csat"],
            csat_responses=data["csat_responses"],
            incident_linked=data.get("incident_linked", 0),  # weeks stored before incidents: 0
            callbacks=CallbackCounts(**data["callbacks"]),
        )

    def to_json(self) -> dict[str, Any]:
        """Exactly the shape of `GET /api/v1/metrics/weekly`."""
        return {
            "week": self.week,
            "total": self.total,
            "by_channel": dict(self.by_channel),
            "by_category": dict(self.by_category),
            "by_queue": dict(self.by_queue),
            "first_response": self.first_response.to_json(),
            "resolution": self.resolution.to_json(),
            "sla_compliance": self.sla_compliance,
            "backlog": self.backlog,
            "deflected": self.deflected,
            "csat": self.csat,
            "incident_linked": self.incident_linked,
            "callbacks": self.callbacks.to_json(),
        }


def weekly_figures(
    session: Session,
    dialect: str,
    weeks: Sequence[Week],
    now: datetime,
    filters: Filters,
    with_backlog: bool = True,
) -> list[WeekFigures]:
    """The figures of each week in `weeks` (consecutive, oldest first).

    Without backlog, the weeks need not be consecutive (the rollups add backlog themselves).
    """
    if not weeks:
        return []
    figures = [WeekFigures(w.label) for w in weeks]
    w = weeks_subquery(weeks)
    t = Ticket.__table__.c
    where = filters.conditions()

    def in_week(column: Any) -> Any:
        return and_(column >= w.c.ws, column < w.c.we)

    # Volume by channel, category and queue (+ deflected chats): one read of the week's tickets
    # (the covering created-at index), one row per combination, added up here.
    chan = channel_group(t.channel)
    category = func.coalesce(t.category, UNCATEGORIZED)
    deflected = func.sum(case((and_(t.deflected.is_(True), t.channel == "chat"), 1), else_=0))
    rows = session.execute(
        select(w.c.idx, chan, category, t.queue, func.count(), deflected)
        .select_from(w.join(Ticket.__table__, in_week(t.created_at)))
        .where(*where)
        .group_by(w.c.idx, chan, category, t.queue)
    )
    for idx, channel, cat, queue, count, defl in rows:
        fig = figures[idx]
        fig.by_channel[channel] = fig.by_channel.get(channel, 0) + count
        fig.by_category[cat] = fig.by_category.get(cat, 0) + count
        fig.by_queue[queue] = fig.by_queue.get(queue, 0) + count
        fig.total += count
        fig.deflected += int(defl or 0)

    for idx, linked in linked_per_week(session, w, in_week(t.created_at), where):
        figures[idx].incident_linked = linked

    for idx, figure, count in callbacks_per_week(session, w, filters.conditions(keep_merged=True)):
        setattr(figures[idx].callbacks, figure, count)

    for fig in figures:  # largest first, for the tables
        fig.by_category = dict(sorted(fig.by_category.items(), key=lambda kv: (-kv[1], kv[0])))
        fig.by_queue = dict(sorted(fig.by_queue.items(), key=lambda kv: (-kv[1], kv[0])))

    for idx, (n, median, p90) in week_percentiles(session, dialect, w, t.first_response_at, where).items():
        figures[idx].first_response = Percentiles(median, p90, n)
    # The resolved tickets, read once: durations, the SLA outcomes decided at resolution, csat.
    on_time = t.resolved_at <= t.resolution_due_at
    first_ok = func.coalesce(t.first_response_at, t.resolved_at) <= func.coalesce(
        t.first_response_due_at, t.resolved_at
    )
    resolved = week_percentiles(
        session, dialect, w, t.resolved_at, where,
        extra=(
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((and_(on_time, first_ok), 1), else_=0)),
            cast(func.avg(t.csat_score), Float),
            func.count(t.csat_score),
        ),
    )
    for idx, (n, median, p90) in resolved.items():
        figures[idx].resolution = Percentiles(median, p90, n)
    for idx, (decided, met, csat, rated) in resolved.extras.items():
        figures[idx].sla_decided += int(decided or 0)
        figures[idx].sla_met += int(met or 0)
        if rated:
            figures[idx].csat = round(float(csat), 2)
            figures[idx].csat_responses = rated

    for idx, missed in _sla_missed(session, weeks, now, where):
        figures[idx].sla_decided += missed

    if with_backlog:
        for idx, backlog in _backlog(session, w, weeks[0], where):
            figures[idx].backlog = int(backlog)
    return figures


def backlog_before(session: Session, first: Week, filters: Filters) -> int:
    """Tickets open at the start of `first`: created before it, not resolved before it."""
    t = Ticket.__table__.c
    where = filters.conditions()
    before = select(
        select(func.count()).where(*where, t.created_at < first.start).scalar_subquery()
        - select(func.count()).where(*where, t.resolved_at < first.start).scalar_subquery()
    )
    return int(session.execute(before).scalar_one() or 0)


def backlog_before_from_end(
    session: Session, first: Week, last: Week, figures: Sequence[WeekFigures], filters: Filters
) -> int:
    """The same number as `backlog_before(first)`, counted from the other end of time.

    Open before the first week = open now (tickets never resolved), less what the weeks from
    `first` to `last` added (their created minus resolved counts, already in `figures`), less
    what came after `last`. Cheap for recent weeks: the counts before a range that ends today
    read most of the store, these read only the unresolved tickets and the time after `last`.
    """
    t = Ticket.__table__.c
    where = filters.conditions()
    counts = select(
        select(func.count()).where(*where, t.resolved_at.is_(None)).scalar_subquery(),
        select(func.count()).where(*where, t.created_at >= last.end).scalar_subquery(),
        select(func.count()).where(*where, t.resolved_at >= last.end).scalar_subquery(),
    )
    unresolved, created_after, resolved_after = session.execute(counts).one()
    added = sum(fig.total - fig.resolution.count for fig in figures)
    return int(unresolved or 0) - added - (int(created_after or 0) - int(resolved_after or 0))


def _joined(w: Any, column: Any) -> Any:
    """weeks JOIN tickets ON column in [week start, week end)."""
    return w.join(Ticket.__table__, and_(column >= w.c.ws, column < w.c.we))


def _sla_missed(
    session: Session, weeks: Sequence[Week], now: datetime, where: list[Any]
) -> list[tuple[int, int]]:
    """Per week, the tickets whose resolution target passed in it (by `now`) unmet: decided, as a
    miss, in that week (those met are counted at their resolution, in `weekly_figures`)."""
    t = Ticket.__table__.c
    until_now = weeks_subquery(weeks, until=now)  # only targets that have already passed
    missed = session.execute(
        select(until_now.c.idx, func.count())
        .select_from(_joined(until_now, t.resolution_due_at))
        .where(
            *where,
            or_(t.resolved_at.is_(None), t.resolved_at > t.resolution_due_at),
            # still paused with time left: the clock is stopped, nothing decided yet
            or_(t.sla_paused_at.is_(None), t.resolution_due_at <= t.sla_paused_at),
        )
        .group_by(until_now.c.idx)
    ).all()
    return [(idx, n) for idx, n in missed]


def _backlog(session: Session, w: Any, first: Week, where: list[Any]) -> list[tuple[int, int]]:
    """Open tickets at each week's end: the count before the range plus a running sum."""
    t = Ticket.__table__.c
    before = select(
        select(func.count()).where(*where, t.created_at < first.start).scalar_subquery()
        - select(func.count()).where(*where, t.resolved_at < first.start).scalar_subquery()
    )
    base = int(session.execute(before).scalar_one() or 0)
    created = (
        select(w.c.idx.label("idx"), func.count().label("n"))
        .select_from(w.join(Ticket.__table__, and_(t.created_at >= w.c.ws, t.created_at < w.c.we)))
        .where(*where)
        .group_by(w.c.idx)
    )
    resolved = (
        select(w.c.idx.label("idx"), (-func.count()).label("n"))
        .select_from(
            w.join(Ticket.__table__, and_(t.resolved_at >= w.c.ws, t.resolved_at < w.c.we))
        )
        .where(*where)
        .group_by(w.c.idx)
    )
    changes = created.union_all(resolved).subquery("changes")
    per_week = (
        select(w.c.idx.label("idx"), func.coalesce(func.sum(changes.c.n), 0).label("delta"))
        .select_from(w.outerjoin(changes, changes.c.idx == w.c.idx))
        .group_by(w.c.idx)
        .subquery("per_week")
    )
    running = func.sum(per_week.c.delta).over(order_by=per_week.c.idx)
    rows = session.execute(select(per_week.c.idx, running + base))
    return [(idx, int(value)) for idx, value in rows]
