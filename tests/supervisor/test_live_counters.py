"""Today's open-ticket counters on random tickets (SQLite and PostgreSQL): the same numbers as a
count in Python of the tickets' rows, unfiltered, by queue (the kept counts and the SLA watch's
index) and by channel or category (the rows); and on SQLite the unfiltered and queue counts read
ix_tickets_sla_watch alone (migration 0036), not the table."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from helpdesk.metrics import Filters, live_counters
from helpdesk.metrics.live import open_totals
from helpdesk.models import Contact, Ticket
from helpdesk.services import Services
from tests.conftest import add_agent

NOW = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Belgrade")
QUEUES = ("triage", "finance")
FILTERS = (Filters(), Filters(queue="finance"), Filters(channel="phone"), Filters(category="uncategorized"))


def _when(rng: random.Random) -> datetime | None:
    hours = timedelta(hours=rng.randrange(1, 90))
    return rng.choice((None, NOW, NOW - hours, NOW + hours))


def _fill(svc: Services, n: int) -> None:
    rng = random.Random(1436)
    agents = [add_agent(svc, f"live{i}@helpdesk.test", name=f"Live {i}") for i in range(2)]
    with svc.db.transaction() as s:
        contact = Contact(name="Građanin")
        s.add(contact)
        s.flush()
        rows = [
            {
                "reference": f"HD-2026-{i + 1:06d}", "subject": "x", "reply_token": f"t{i:08d}",
                "status": rng.choice(("new", "new", "open", "pending", "resolved", "closed")),
                "channel": rng.choice(("email", "phone", "sms", "chat")),
                "category": rng.choice((None, "taxes")), "queue": rng.choice(QUEUES),
                "assignee_id": rng.choice((None, *agents)), "contact_id": contact.id,
                "created_at": NOW - timedelta(days=3), "updated_at": NOW - timedelta(days=3),
                "first_response_at": rng.choice((None, NOW - timedelta(hours=5))),
                "first_response_due_at": _when(rng), "resolution_due_at": _when(rng),
                "sla_breached_at": rng.choice((None, None, NOW - timedelta(hours=2))),
            }
            for i in range(n)
        ]
        s.execute(insert(Ticket), rows)
        ids = list(s.scalars(select(Ticket.id)))
        # merged away while open (not what the console does; counted nowhere all the same)
        for victim in rng.sample(ids, n // 10):
            s.get(Ticket, victim).merged_into_id = ids[0]  # type: ignore[union-attr]


def _expected(svc: Services, filters: Filters) -> tuple[int, int, int, int]:
    with svc.db.session() as s:
        rows = s.execute(select(Ticket.__table__)).mappings().all()
    open_ = pending = unassigned = past = 0
    for t in rows:
        if t["status"] not in ("new", "open", "pending") or t["merged_into_id"] is not None:
            continue
        if filters.queue and t["queue"] != filters.queue:
            continue
        if filters.channel == "phone" and t["channel"] not in ("phone", "sms"):
            continue
        if filters.category == "uncategorized" and t["category"] is not None:
            continue
        running = t["status"] != "pending"
        open_ += running
        pending += not running
        unassigned += t["assignee_id"] is None
        fr_due, res_due = t["first_response_due_at"], t["resolution_due_at"]
        past += t["sla_breached_at"] is not None or (
            running
            and (
                (t["first_response_at"] is None and fr_due is not None and fr_due <= NOW)
                or (res_due is not None and res_due <= NOW)
            )
        )
    return open_, pending, unassigned, past


def test_open_counters_equal_a_count_of_the_rows(store: Services) -> None:
    _fill(store, 300)
    for filters in FILTERS:
        live = live_counters(store.db, NOW, TZ, filters)
        got = (live.open, live.pending, live.unassigned, live.breached_open)
        assert got == _expected(store, filters), filters
        assert live.breached_open > 0 and live.unassigned > 0


def _plan(svc: Services, filters: Filters) -> str:
    sql = str(open_totals(NOW, filters).compile(svc.db.engine, compile_kwargs={"literal_binds": True}))
    with svc.db.engine.connect() as conn:
        return "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def test_sqlite_counts_the_open_tickets_from_the_sla_watch_index_alone(services: Any) -> None:
    _fill(services, 200)
    with services.db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    for filters in FILTERS[:2]:
        assert "COVERING INDEX ix_tickets_sla_watch" in _plan(services, filters), filters
