"""The weekly figures' callbacks equal a recount from the callback tables, on a small random
history: callbacks asked for and calls made at random times over eight weeks (into weeks already
stored as rollups too), tickets re-queued, recategorized and merged, a callback moved to another
ticket, and a call recorded through ``record_outcome`` in a stored week. After every batch the
report through the rollups must equal the recount in Python, unfiltered and filtered, and the
report recomputed without rollups (SQLite and PostgreSQL, from a fixed seed)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpdesk.callbacks import record_outcome
from helpdesk.metrics import Filters, resolve_weeks, weekly_report
from helpdesk.metrics.callbacks import CALLBACK_FIGURES
from helpdesk.metrics.report import recomputed_report
from helpdesk.models import CALLBACK_OUTCOMES, Callback, CallbackAttempt, Contact, Ticket
from helpdesk.services import FixedClock, Services
from helpdesk.tickets import Actor

TZ = ZoneInfo("Europe/Belgrade")
NOW = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # a Wednesday: the current week is half over
START = NOW - timedelta(weeks=8)
QUEUES = ("finance", "documents")
CATEGORIES = ("tax", None)
CHANNELS = ("phone", "sms", "web", "chat")
FILTERS = (Filters(), Filters(channel="phone"), Filters(queue="finance", category="uncategorized"))


def _at(rng: random.Random, after: datetime, until: datetime = NOW) -> datetime:
    return after + timedelta(seconds=rng.randrange(max(1, int((until - after).total_seconds()))))


def _matches(ticket: Ticket, filters: Filters) -> bool:
    """The report's filters, written out again in Python (merged tickets' callbacks count)."""
    if filters.channel == "phone" and ticket.channel not in ("phone", "sms"):
        return False
    if filters.queue and ticket.queue != filters.queue:
        return False
    return not filters.category or ticket.category == (
        None if filters.category == "uncategorized" else filters.category
    )


def _recount(svc: Services, weeks: Any, filters: Filters) -> dict[str, dict[str, int]]:
    counts = {w.label: dict.fromkeys(CALLBACK_FIGURES, 0) for w in weeks}

    def add(at: datetime, figure: str) -> None:
        for w in weeks:
            if w.start <= at < w.end:
                counts[w.label][figure] += 1

    with svc.db.session() as s:
        tickets = {t.id: t for t in s.scalars(select(Ticket))}
        callbacks = {c.id: c for c in s.scalars(select(Callback))}
        for c in callbacks.values():
            if _matches(tickets[c.ticket_id], filters):
                add(c.requested_at, "requested")
        for a in s.scalars(select(CallbackAttempt)):
            if _matches(tickets[callbacks[a.callback_id].ticket_id], filters):
                add(a.at, a.outcome)
    return counts


def _check(svc: Services, weeks: Any, full: bool = False) -> None:
    for filters in FILTERS:
        rolled = weekly_report(svc.db, weeks, NOW, filters, TZ)
        assert {w.week: w.callbacks.to_json() for w in rolled.weeks} == _recount(svc, weeks, filters), filters
    if full:  # and every other figure still as recomputed (the ticket rollup tests do the rest)
        rolled, again = (
            weekly_report(svc.db, weeks, NOW, Filters(), TZ),
            recomputed_report(svc.db, weeks, NOW, Filters(), TZ),
        )
        assert [w.to_json() for w in rolled.weeks] == [w.to_json() for w in again.weeks]


def _callback(rng: random.Random, ticket: Ticket, requested: datetime) -> Callback:
    calls = sorted(_at(rng, requested) for _ in range(rng.randrange(3)))
    callback = Callback(
        ticket_id=ticket.id,
        contact_id=ticket.contact_id,
        phone="+381641234567",
        source="phone",
        status="pending",
        window_start=requested,
        window_end=requested + timedelta(hours=2),
        windows=[],
        attempts=len(calls),
        requested_at=requested,
        updated_at=requested,
    )
    callback.attempts_made = [CallbackAttempt(at=at, outcome=rng.choice(CALLBACK_OUTCOMES)) for at in calls]  # type: ignore[attr-defined]
    return callback


def _add_callbacks(
    s: Any, rng: random.Random, tickets: list[Ticket], count: int, until: datetime = NOW
) -> None:
    for _ in range(count):
        ticket = rng.choice(tickets)
        callback = _callback(rng, ticket, _at(rng, max(ticket.created_at, START), until))
        s.add(callback)
        s.flush()
        for attempt in callback.attempts_made:  # type: ignore[attr-defined]
            attempt.callback_id = callback.id
            s.add(attempt)


def test_weekly_callback_figures_equal_a_recount_from_the_callback_tables(store: Services) -> None:
    svc = store
    rng = random.Random(20261130)
    weeks = resolve_weeks(None, None, NOW, TZ, default=8)
    with svc.db.transaction() as s:
        contact = Contact(name="Random Citizen", created_at=START)
        s.add(contact)
        s.flush()
        for n in range(24):
            created = _at(rng, START - timedelta(weeks=1))
            s.add(
                Ticket(
                    reference=f"HD-2026-{n:06d}",
                    subject=f"Random {n}",
                    status="open",
                    channel=rng.choice(CHANNELS),
                    category=rng.choice(CATEGORIES),
                    queue=rng.choice(QUEUES),
                    contact_id=contact.id,
                    created_at=created,
                    updated_at=created,
                    reply_token=f"r{n:08d}",
                )
            )
        s.flush()
        _add_callbacks(s, rng, list(s.scalars(select(Ticket))), 30)
    _check(svc, weeks)  # computed, and the closed weeks stored

    for _round in range(2):
        with svc.db.transaction() as s:  # late records dated into stored (closed) weeks
            tickets = list(s.scalars(select(Ticket).order_by(Ticket.id)))
            _add_callbacks(s, rng, tickets, 4, until=weeks[-2].end)
            merged, into = rng.sample([t for t in tickets if t.merged_into_id is None], 2)
            merged.merged_into_id, merged.status = into.id, "closed"
        # Each move alone in its transaction, so no other change's time span covers its weeks.
        for _ in range(3):  # a ticket with callbacks moves under the filters (its own span is
            with svc.db.transaction() as s:  # its creation only: the callbacks are later)
                with_callbacks = list(s.scalars(select(Ticket).join(Callback).distinct().order_by(Ticket.id)))
                t = rng.choice(with_callbacks)
                t.queue, t.category, t.channel = (
                    rng.choice(QUEUES),
                    rng.choice(CATEGORIES),
                    rng.choice(CHANNELS),
                )
        _check(svc, weeks)
        with svc.db.transaction() as s:  # a callback moved to another ticket
            moved = rng.choice(list(s.scalars(select(Callback).order_by(Callback.id))))
            moved.ticket_id = rng.choice(list(s.scalars(select(Ticket.id))))
        _check(svc, weeks)

    # A call recorded the way agents record it, in a week stored already.
    with svc.db.transaction() as s:
        pending = s.scalars(select(Callback).where(Callback.requested_at < weeks[2].start).limit(1)).one()
        pending_id = pending.id
    svc.clock = FixedClock(weeks[3].start + timedelta(days=1))
    record_outcome(svc, pending_id, Actor.system("test"), "wrong_number")
    svc.clock = FixedClock(NOW)
    _check(svc, weeks, full=True)
    assert weekly_report(svc.db, weeks[3:4], NOW, Filters(), TZ).weeks[0].callbacks.wrong_number >= 1
