"""The supervisor's closed weeks stay stored: a change to an old ticket sends back only the weeks
its times are in, and the warm-up (the worker at start, ``helpdesk metrics warm``) stores every
closed week before a supervisor asks, without holding SQLite's write lock while it reads. The
figures stay those of the full recomputation (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.cli.metrics import metrics
from helpdesk.metrics import Filters, agent_rollup, resolve_weeks, rollup, weekly_report
from helpdesk.metrics.agent_rollup import agent_figures_by_weeks
from helpdesk.metrics.agents import agent_figures
from helpdesk.metrics.report import recomputed_report
from helpdesk.metrics.rollup import valid_keys, week_key
from helpdesk.metrics.warm import RollupWarmer, closed_weeks, warm
from helpdesk.models import Callback, Contact, ReportWeek, Ticket
from helpdesk.services import FixedClock, Services
from tests.conftest import add_agent

TZ = ZoneInfo("Europe/Belgrade")
NOW = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # a Wednesday: 2026-W47, half over
WEEKS = resolve_weeks(None, None, NOW, TZ, default=10)  # 2026-W38 .. 2026-W47


def _monday(weeks_back: int) -> datetime:
    """10:00 UTC on the Monday `weeks_back` weeks before the current week's."""
    return WEEKS[-1 - weeks_back].start + timedelta(hours=10)


def _ticket(n: int, contact_id: int, created: datetime, **fields: Any) -> Ticket:
    values: dict[str, Any] = dict(
        reference=f"HD-2026-{n:06d}",
        subject=f"Ticket {n}",
        status="open",
        channel="email",
        queue="finance",
        contact_id=contact_id,
        created_at=created,
        updated_at=created,
        reply_token=f"r{n:08d}",
        first_response_due_at=created + timedelta(hours=4),
        resolution_due_at=created + timedelta(hours=16),
    )
    values.update(fields)
    return Ticket(**values)


@pytest.fixture()
def history(store: Services) -> Services:
    """A ticket or two in each of the ten weeks, answered and resolved in it."""
    store.clock = FixedClock(NOW)
    agent = add_agent(store, "warm@example.rs", name="Warm Agent")
    with store.db.transaction() as s:
        contact = Contact(name="Citizen", created_at=WEEKS[0].start)
        s.add(contact)
        s.flush()
        for i, week in enumerate(WEEKS[:-1]):
            for j in range(2):
                created = week.start + timedelta(days=1 + j, hours=9)
                s.add(
                    _ticket(
                        i * 2 + j,
                        contact.id,
                        created,
                        status="resolved",
                        assignee_id=agent,
                        first_response_at=created + timedelta(hours=1 + j),
                        resolved_at=created + timedelta(hours=5 + j),
                        csat_score=3 + j,
                    )
                )
    return store


def _same_as_recomputed(db: Any, weeks: Any = WEEKS, filters: Filters = Filters()) -> None:
    rolled = weekly_report(db, weeks, NOW, filters, TZ)
    full = recomputed_report(db, weeks, NOW, filters, TZ)
    assert [w.to_json() for w in rolled.weeks] == [w.to_json() for w in full.weeks]
    assert rolled.before.to_json() == full.before.to_json()
    rolled_agents = agent_figures_by_weeks(db, weeks[:-1], NOW, filters)
    full_agents = agent_figures(db, weeks[0].start, weeks[-2].end, filters)
    assert [a.to_json() for a in rolled_agents] == [a.to_json() for a in full_agents]


def _recomputed_weeks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The labels of the weeks the next reads compute from the tickets (not from storage)."""
    computed: list[str] = []
    original = rollup.weekly_figures

    def spy(session: Any, dialect: str, weeks: Any, *args: Any, **kwargs: Any) -> Any:
        computed.extend(w.label for w in weeks)
        return original(session, dialect, weeks, *args, **kwargs)

    monkeypatch.setattr(rollup, "weekly_figures", spy)
    return computed


def test_reopening_an_old_ticket_recomputes_only_the_weeks_it_is_in(
    history: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = history.db
    with db.transaction() as s:
        contact_id = s.scalars(select(Contact.id)).first()
        # created five weeks back, resolved three weeks back, its target in the week created
        s.add(
            _ticket(
                900,
                contact_id,
                _monday(5),
                status="resolved",
                first_response_at=_monday(5),
                resolved_at=_monday(3) + timedelta(days=2),
                csat_score=5,
            )
        )
    _same_as_recomputed(db)  # stores the closed weeks
    computed = _recomputed_weeks(monkeypatch)
    with db.transaction() as s:
        old = s.scalars(select(Ticket).where(Ticket.reference == "HD-2026-000900")).one()
        old.resolved_at, old.status, old.csat_score = None, "open", None  # reopened today
    _same_as_recomputed(db)
    # The week it was created in, the week it had been resolved in, and the current week (never
    # stored); the week between them comes back from storage.
    assert computed == [WEEKS[-6].label, WEEKS[-4].label, WEEKS[-1].label]


def test_per_agent_weeks_stored_in_the_old_form_are_never_read(history: Services) -> None:
    """Rows a deploy before the packed durations left (their numbers as JSON lists, under the old
    key prefix) neither feed the dashboard nor stop the warm-up from storing the new ones."""
    db = history.db
    closed = closed_weeks(NOW, TZ, 9)
    bogus = {"agents": {"1": {"fr": [1], "res": [2], "cs": [5, 1]}}}
    with db.transaction() as s:
        seen = rollup.snapshot(s, db.dialect)  # valid: only the key's form is old
        for week in closed:
            s.add(
                ReportWeek(
                    key="agents|" + week_key(week, Filters()),
                    week_start=week.start,
                    week_end=week.end,
                    seen=seen,
                    figures=bogus,
                )
            )
    assert warm(db, NOW, TZ, weeks=9).agent_weeks == 9
    _same_as_recomputed(db)


def test_requeueing_a_ticket_recomputes_each_week_of_its_callbacks(history: Services) -> None:
    db = history.db
    with db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.created_at < _monday(7))).first()
        for weeks_back in (7, 5, 3):  # far apart: three separate weeks, two between them
            at = _monday(weeks_back)
            s.add(
                Callback(
                    ticket_id=ticket.id,
                    contact_id=ticket.contact_id,
                    phone="+381641234567",
                    source="phone",
                    status="pending",
                    window_start=at,
                    window_end=at + timedelta(hours=2),
                    windows=[],
                    attempts=0,
                    requested_at=at,
                    updated_at=at,
                )
            )
        ticket_id = ticket.id
    finance = Filters(queue="finance")
    _same_as_recomputed(db, filters=finance)
    with db.transaction() as s:
        s.get(Ticket, ticket_id).queue = "documents"  # its callbacks leave the finance figures
    _same_as_recomputed(db, filters=finance)


def test_warm_stores_every_closed_week_so_the_dashboard_computes_only_the_current_one(
    history: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = history.db
    done = warm(db, NOW, TZ, weeks=12)
    assert (done.weeks, done.agent_weeks) == (12, 12)
    computed = _recomputed_weeks(monkeypatch)
    parts: list[object] = []
    original_parts = agent_rollup._week_parts
    monkeypatch.setattr(agent_rollup, "_week_parts", lambda *a: parts.append(a[2]) or original_parts(*a))
    _same_as_recomputed(db)
    assert computed == [WEEKS[-1].label]  # only this week so far
    assert parts == []  # the per-agent table of the complete weeks: all stored
    # Nothing left to do on the next pass; after a change, only the weeks it touched.
    assert (warm(db, NOW, TZ, weeks=12).weeks) == 0
    with db.transaction() as s:
        first = s.scalars(select(Ticket).where(Ticket.created_at < _monday(4))).first()
        first.category = "tax"
    again = warm(db, NOW, TZ, weeks=12)
    assert (again.weeks, again.agent_weeks) == (1, 1)
    keys = [week_key(w, Filters()) for w in closed_weeks(NOW, TZ, 12)]
    with db.session() as s:
        assert valid_keys(s, db.dialect, keys) == set(keys)
    _same_as_recomputed(db)


def test_warm_reads_without_holding_the_write_lock(
    history: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inbound write made while the warm-up computes its weeks goes through at once, and the
    weeks it touched are not stored with figures that missed it."""
    db = history.db
    original = rollup.weekly_figures
    writes: list[int] = []

    def write_meanwhile(session: Any, dialect: str, weeks: Any, *args: Any, **kwargs: Any) -> Any:
        figures = original(session, dialect, weeks, *args, **kwargs)
        if not writes:
            with db.transaction() as s:  # another connection: SQLite BEGIN IMMEDIATE
                ticket = s.scalars(select(Ticket).where(Ticket.created_at >= weeks[-1].start)).first()
                ticket.resolved_at = None
                writes.append(ticket.id)
        return figures

    monkeypatch.setattr(rollup, "weekly_figures", write_meanwhile)
    warm(db, NOW, TZ, weeks=12)
    assert writes
    monkeypatch.setattr(rollup, "weekly_figures", original)
    _same_as_recomputed(db)


def test_metrics_warm_command_and_the_worker(history: Services) -> None:
    runner = create_app(history.settings, services=history).test_cli_runner()
    out = runner.invoke(metrics, ["warm", "--weeks", "8"])
    assert out.exit_code == 0, out.output
    assert "stored 8 weeks and 8 per-agent weeks" in out.output
    with history.db.session() as s:
        assert len(s.scalars(select(ReportWeek.key)).all()) == 16
    warmers = [s for s in history.background if isinstance(s, RollupWarmer)]
    assert len(warmers) == 1 and warmers[0].poll_seconds == history.settings.metrics_warm_seconds
    rest = warmers[0].run_once()  # the rest of the year, and of the dashboard's 12 weeks
    assert (rest.weeks, rest.agent_weeks) == (52 - 8, 12 - 8)
