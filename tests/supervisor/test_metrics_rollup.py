"""The weekly rollups give exactly the figures of a full recomputation, on random histories.

Tickets are created, answered, resolved, reopened, paused, requeued, recategorized, reassigned,
merged and rated at random times over ten weeks (closed weeks edited too), in batches of ORM
transactions (SQLite and PostgreSQL), from a fixed seed. After every batch the report through the
rollups (stored closed weeks reused where no change overlaps them) must equal the report
recomputed from the tickets alone, unfiltered and filtered, over the whole range and over short
ranges (recent and old: the backlog base is counted from either end); so must the per-agent
figures of the dashboard. Tickets are also anonymized and deleted (privacy rules), and the
warm-up's stored weeks (``helpdesk.metrics.warm``) must give the same figures.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from helpdesk.metrics import Filters, resolve_weeks, weekly_report
from helpdesk.metrics.agent_rollup import agent_figures_by_weeks
from helpdesk.metrics.agents import agent_figures
from helpdesk.metrics.report import recomputed_report
from helpdesk.metrics.warm import warm
from helpdesk.models import AnonymizedTicket, Contact, ReportWeek, Ticket
from helpdesk.tickets.anonymize import anonymize_tickets
from tests.conftest import add_agent

TZ = ZoneInfo("Europe/Belgrade")
NOW = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # a Wednesday: the current week is half over
START = NOW - timedelta(weeks=10)
QUEUES = ("finance", "documents", "triage")
CATEGORIES = ("tax", "id", None)
CHANNELS = ("email", "chat", "phone", "sms", "web")
FILTERS = (Filters(), Filters(channel="phone"), Filters(queue="finance"), Filters(category="uncategorized"))


def _at(rng: random.Random, after: datetime, until: datetime = NOW) -> datetime:
    span = max(1, int((until - after).total_seconds()))
    return after + timedelta(seconds=rng.randrange(span))


def _new_ticket(rng: random.Random, n: int, contact_id: int, agents: list[int | None]) -> Ticket:
    created = _at(rng, START)
    t = Ticket(
        reference=f"HD-2026-{n:06d}", subject=f"Random {n}", status="open",
        channel=rng.choice(CHANNELS), category=rng.choice(CATEGORIES), queue=rng.choice(QUEUES),
        contact_id=contact_id, created_at=created, updated_at=created, reply_token=f"r{n:08d}",
        deflected=rng.random() < 0.1, assignee_id=rng.choice(agents),
        first_response_due_at=created + timedelta(hours=rng.choice((1, 4, 8))),
        resolution_due_at=created + timedelta(hours=rng.choice((4, 16, 40, 200))),
    )
    if rng.random() < 0.7:
        t.first_response_at = _at(rng, created)
    if rng.random() < 0.6:
        t.resolved_at = _at(rng, t.first_response_at or created)
        t.status = "resolved"
        if rng.random() < 0.5:
            t.csat_score = rng.randint(1, 5)
    return t


def _change(
    rng: random.Random, t: Ticket, others: list[Ticket], agents: list[int | None], kind: int | None = None
) -> None:
    kind = rng.randrange(9) if kind is None else kind
    if kind == 0 and t.resolved_at is not None:  # reopened
        t.resolved_at, t.status, t.csat_score = None, "open", None
    elif kind == 1 and t.resolved_at is None:  # resolved now or earlier
        t.resolved_at, t.status = _at(rng, t.first_response_at or t.created_at), "resolved"
    elif kind == 2:
        t.queue = rng.choice(QUEUES)
    elif kind == 3:
        t.category = rng.choice(CATEGORIES)
    elif kind == 4 and t.first_response_at is None:
        t.first_response_at = _at(rng, t.created_at)
    elif kind == 5:  # paused, or the target moved by a pause
        t.sla_paused_at = None if t.sla_paused_at else _at(rng, t.created_at)
        t.resolution_due_at = (t.resolution_due_at or t.created_at) + timedelta(hours=rng.randint(1, 30))
    elif kind == 6 and t.resolved_at is not None:
        t.csat_score = rng.randint(1, 5)
    elif kind == 7 and t.merged_into_id is None:
        target = rng.choice(others)
        if target.id != t.id and target.merged_into_id is None:
            t.merged_into_id, t.status = target.id, "closed"
    elif kind == 8:
        t.assignee_id = rng.choice([a for a in agents if a != t.assignee_id])


def _reports(db: Any, weeks: Any, quick: bool = False) -> None:
    # the whole range, the last three weeks (ends now), three weeks in the middle (ended)
    spans = ((weeks, FILTERS[:1]),) if quick else (
        (weeks, FILTERS), (weeks[-3:], FILTERS[:2]), (weeks[3:6], FILTERS[:1])
    )
    for span, filter_sets in spans:
        for filters in filter_sets:
            rolled = weekly_report(db, span, NOW, filters, TZ)
            full = recomputed_report(db, span, NOW, filters, TZ)
            assert rolled.before.to_json() == full.before.to_json(), filters
            for a, b in zip(rolled.weeks, full.weeks, strict=True):
                assert a.to_json() == b.to_json(), (filters, a.week)
                counts = (a.sla_met, a.sla_decided, a.csat_responses, a.resolution.count)
                assert counts == (b.sla_met, b.sla_decided, b.csat_responses, b.resolution.count)
    if not quick:
        for filters in FILTERS:
            _matches_python(db, weeks, filters)
    # the dashboard's complete weeks, and a filtered range with the current week in it
    for span, filters in ((weeks[:-1], FILTERS[0]), (weeks, FILTERS[1])):
        rolled_agents = agent_figures_by_weeks(db, span, NOW, filters)
        full_agents = agent_figures(db, span[0].start, span[-1].end, filters)
        assert [a.to_json() for a in rolled_agents] == [a.to_json() for a in full_agents], filters


def _nearest_rank(values: list[int], p: int) -> int | None:
    """The p-th percentile (p of 100) by nearest rank: the smallest rank k with 100k >= p * n."""
    values = sorted(values)
    return values[-(-p * len(values) // 100) - 1] if values else None


def _matches_python(db: Any, weeks: Any, filters: Filters) -> None:
    """Volume (by channel, category, queue; deflected), the duration percentiles, the SLA outcomes
    and csat, counted in Python from the tickets' rows: a reference outside SQL (the rollups and
    the recomputation share the SQL, so their being equal does not check the SQL itself)."""
    with db.session() as s:
        tickets = [t for t in s.scalars(select(Ticket)) if t.merged_into_id is None]
        s.expunge_all()  # read after the session: every column is loaded
    if filters.channel == "phone":
        tickets = [t for t in tickets if t.channel in ("phone", "sms")]
    if filters.queue:
        tickets = [t for t in tickets if t.queue == filters.queue]
    if filters.category == "uncategorized":
        tickets = [t for t in tickets if t.category is None]
    report = recomputed_report(db, weeks, NOW, filters, TZ)
    for week, fig in zip(weeks, report.weeks, strict=True):
        created = [t for t in tickets if week.start <= t.created_at < week.end]
        assert fig.total == len(created)
        channels: dict[str, int] = {}
        categories: dict[str, int] = {}
        queues: dict[str, int] = {}
        for t in created:
            channel = "phone" if t.channel == "sms" else t.channel
            channels[channel] = channels.get(channel, 0) + 1
            categories[t.category or "uncategorized"] = categories.get(t.category or "uncategorized", 0) + 1
            queues[t.queue] = queues.get(t.queue, 0) + 1
        assert {k: v for k, v in fig.by_channel.items() if v} == channels
        assert fig.by_category == categories and fig.by_queue == queues
        assert fig.deflected == sum(1 for t in created if t.deflected and t.channel == "chat")
        for attr, pct in (("first_response_at", fig.first_response), ("resolved_at", fig.resolution)):
            secs = [
                round((getattr(t, attr) - t.created_at).total_seconds())
                for t in tickets
                if getattr(t, attr) is not None and week.start <= getattr(t, attr) < week.end
            ]
            assert (pct.count, pct.median_seconds, pct.p90_seconds) == (
                len(secs), _nearest_rank(secs, 50), _nearest_rank(secs, 90)
            ), (filters, week.label, attr)
        resolved = [t for t in tickets if t.resolved_at and week.start <= t.resolved_at < week.end]
        on_time = [t for t in resolved if t.resolution_due_at and t.resolved_at <= t.resolution_due_at]
        met = [
            t for t in on_time
            if (t.first_response_at or t.resolved_at) <= (t.first_response_due_at or t.resolved_at)
        ]
        until = max(week.start, min(week.end, NOW))
        missed = [
            t for t in tickets
            if t.resolution_due_at is not None and week.start <= t.resolution_due_at < until
            and (t.resolved_at is None or t.resolved_at > t.resolution_due_at)
            and (t.sla_paused_at is None or t.resolution_due_at <= t.sla_paused_at)
        ]
        assert (fig.sla_met, fig.sla_decided) == (len(met), len(on_time) + len(missed)), (filters, week.label)
        scores = [t.csat_score for t in resolved if t.csat_score is not None]
        assert fig.csat_responses == len(scores), (filters, week.label)
        assert fig.csat == (round(sum(scores) / len(scores), 2) if scores else None), (filters, week.label)


def _erase_or_delete(db: Any, rng: random.Random, round_no: int) -> None:
    """Privacy rules: tickets anonymized (their figures stay), or one deleted (they go)."""
    if round_no not in (1, 2):
        return
    with db.transaction() as s:
        if round_no == 1:
            ids = list(s.scalars(select(Ticket.id).where(Ticket.created_at < NOW - timedelta(weeks=4))))
            anonymize_tickets(s, rng.sample(ids, min(len(ids), 5)), NOW, "erasure")
            return
        target = aliased(Ticket)
        loners = s.scalars(
            select(Ticket).where(
                Ticket.created_at < NOW - timedelta(weeks=2),
                ~exists().where(target.merged_into_id == Ticket.id),
                ~exists().where(AnonymizedTicket.ticket_id == Ticket.id),
            )
        ).all()
        s.delete(rng.choice(loners))


def test_rollups_equal_full_recomputation_on_random_histories(store: Any) -> None:
    db = store.db
    rng = random.Random(20261118)
    weeks = resolve_weeks(None, None, NOW, TZ, default=10)
    agents: list[int | None] = [
        add_agent(store, f"random{i}@example.rs", name=f"Random {i}") for i in range(3)
    ]
    agents.append(None)
    with db.transaction() as s:
        contact = Contact(name="Random Citizen", created_at=START)
        s.add(contact)
        s.flush()
        contact_id = contact.id
    n = 0
    for round_no in range(5):
        with db.transaction() as s:
            tickets = list(s.scalars(select(Ticket)))
            for t in rng.sample(tickets, min(len(tickets), 12)):
                _change(rng, t, tickets, agents)
            for _ in range(40 if round_no == 0 else 6):
                n += 1
                s.add(_new_ticket(rng, n, contact_id, agents))
        if round_no == 3:  # a change in its own small transaction, one old week only
            with db.transaction() as s:
                old = s.scalars(select(Ticket).where(Ticket.resolved_at.is_not(None)).limit(1)).one()
                old.resolved_at, old.status = None, "open"
        _reports(db, weeks)
        with db.session() as s:
            stored = s.scalar(select(func.count()).select_from(ReportWeek))
        assert stored and stored >= len(weeks)  # closed weeks are kept, for every filter
        # One ticket changed alone (a reassignment every other round): only the weeks it
        # touches may be read again, the others must come back from the rollups unchanged.
        with db.transaction() as s:
            old = Ticket.created_at < NOW - timedelta(weeks=3)
            tickets = list(s.scalars(select(Ticket).where(old, Ticket.merged_into_id.is_(None))))
            _change(rng, rng.choice(tickets), tickets, agents, kind=8 if round_no % 2 else None)
        _reports(db, weeks, quick=True)
        _erase_or_delete(db, rng, round_no)
        # The warm-up's stored weeks (the worker's, ahead of the dashboard) are exact too.
        warm(db, NOW, TZ, weeks=len(weeks))
        _reports(db, weeks, quick=True)
