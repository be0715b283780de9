"""The console list on a big store (issue 14): the same rows in every order as the one query it
replaced, a capped total with pages up to the cap, the indexes in due order serving the ORDER BY
on SQLite and PostgreSQL, and SQLite's planner statistics written by an upgrade of a big store
only."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Select, and_, case, event, func, insert, select, text

from helpdesk import migrate
from helpdesk.access import Viewer
from helpdesk.console import listing
from helpdesk.console.filters import SORTS, Filters
from helpdesk.console.listing import _conditions, _sort_key, list_page, page_ids_statement
from helpdesk.models import CHANNELS, PRIORITIES, STATUSES, Agent, Contact, Ticket
from helpdesk.services import Services
from tests.conftest import T0, add_agent, login

QUEUES = ("triage", "accounts", "payments")


def _fill(svc: Services, n: int, seed: int = 14) -> list[int]:
    """n tickets of every kind (Core inserts, as a bulk load writes them): some answered, some
    without deadlines, some sharing one, some merged away; returns the agents' ids."""
    rng = random.Random(seed)
    agents = [
        add_agent(svc, f"a{i}@helpdesk.test", name=name) for i, name in enumerate(("ana", "Boris", "Ćira"))
    ]
    with svc.db.transaction() as s:
        contact = Contact(name="Građanin")
        s.add(contact)
        s.flush()
        rows = []
        for i in range(n):
            created = T0 - timedelta(hours=rng.randrange(2000))
            answered = rng.random() < 0.6
            due = rng.choice(
                (None, T0, T0 - timedelta(hours=rng.randrange(100)), T0 + timedelta(hours=rng.randrange(100)))
            )
            rows.append(
                {
                    "reference": f"HD-2026-{i + 1:06d}",
                    "subject": rng.choice(("porez", "Porez", "nalog", "Zahtev", "ček"))
                    + f" {rng.randrange(5)}",
                    "status": rng.choice(STATUSES),
                    "priority": rng.choice(PRIORITIES),
                    "channel": rng.choice(CHANNELS),
                    "category": rng.choice((None, "taxes", "other")),
                    "queue": rng.choice(QUEUES),
                    "assignee_id": rng.choice((None, *agents)),
                    "contact_id": contact.id,
                    "created_at": created,
                    "updated_at": created + timedelta(minutes=rng.randrange(3)),
                    "first_response_at": created + timedelta(hours=1) if answered else None,
                    "first_response_due_at": rng.choice((None, due)),
                    "resolution_due_at": rng.choice((None, due, T0 + timedelta(days=1))),
                    "reply_token": f"tok{i:09d}",
                }
            )
        s.execute(insert(Ticket), rows)
        ids = list(s.scalars(select(Ticket.id).order_by(Ticket.id)))
        for merged, target in zip(ids[::23], ids[1::23], strict=False):
            s.execute(Ticket.__table__.update().where(Ticket.id == merged).values(merged_into_id=target))
    return agents


def _old_order(viewer: Viewer, f: Filters) -> Select[tuple[str]]:
    """What the list showed before (one query: rows joined to names, the CASE sorted whole)."""
    old_due = case(
        (
            and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at.is_not(None)),
            Ticket.first_response_due_at,
        ),
        else_=Ticket.resolution_due_at,
    )
    sort = f.effective_sort
    key = old_due if sort == "due" else _sort_key(sort)
    ordered = key.desc().nulls_last() if f.dir == "desc" else key.asc().nulls_last()
    return (
        select(Ticket.reference)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
        .where(*_conditions(viewer, f, T0))
        .order_by(ordered, Ticket.id.desc())
    )


def test_every_view_and_order_lists_the_same_pages_as_the_one_query_it_replaced(store: Services) -> None:
    agents = _fill(store, 160)
    viewers = [
        Viewer(agents[0], "ana", "supervisor", frozenset()),
        Viewer(agents[1], "Boris", "agent", frozenset({"payments"})),
    ]
    views = [
        Filters(),
        Filters(status=""),
        Filters(status="closed"),
        Filters(status="new"),
        Filters(overdue=True),
        Filters(status="", channel="phone"),
        Filters(status="", category="taxes"),
        Filters(status="", queue="payments"),
        Filters(status="", unassigned=True),
        Filters(mine=True, status=""),
    ]
    per_page = 9
    with store.db.session() as s:
        for viewer in viewers:
            for view in views:
                for sort in SORTS:
                    for direction in ("asc", "desc"):
                        f = Filters(**{**view.__dict__, "sort": sort, "dir": direction})
                        expected = list(s.scalars(_old_order(viewer, f)))
                        listed: list[str] = []
                        for page in range(1, max(1, -(-len(expected) // per_page)) + 1):
                            f_page = Filters(**{**f.__dict__, "page": page})
                            result = list_page(store, viewer, f_page, per_page=per_page)
                            assert result.total == len(expected) and not result.capped
                            listed += [t["reference"] for t in result.tickets]
                        assert listed == expected, (viewer.role, view, sort, direction)


@pytest.fixture
def capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    monkeypatch.setattr(listing, "PER_PAGE", 2)


def refs(html: str) -> list[str]:
    return re.findall(r'data-reference="([^"]+)"', html)


def test_a_view_past_the_cap_says_more_than_and_pages_up_to_the_cap(
    client: Any, services: Services, capped: None
) -> None:
    boss = login(client, services, "supervisor")
    _fill(services, 60)
    first = client.get("/console?status=&lang=en").get_data(as_text=True)
    assert "more than 5 tickets" in first and "(showing 1–2)" in first
    assert "Page 1 of more than 3" in first and 'rel="next"' in first and 'id="list-capped"' not in first
    last = client.get("/console?status=&page=3&lang=en").get_data(as_text=True)
    assert len(refs(last)) == 1  # the cap: 5 tickets in pages of 2
    assert "(showing 5–5)" in last and 'rel="prev"' in last and 'rel="next"' not in last
    assert 'id="list-capped"' in last and "no further than the first 5 tickets" in last
    beyond = client.get("/console?status=&page=99&lang=en").get_data(as_text=True)
    assert refs(beyond) == refs(last) and "Page 3 of more than 3" in beyond
    # The same pages as the first five of the old query, in the list's order.
    with services.db.session() as s:
        everything = _old_order(Viewer(boss, "x", "supervisor", frozenset()), Filters(status=""))
        expected = list(s.scalars(everything))[:5]
    pages = [refs(client.get(f"/console?status=&page={p}").get_data(as_text=True)) for p in (1, 2, 3)]
    assert sum(pages, []) == expected
    latin = client.get("/console?status=&page=3&lang=sr-Latn").get_data(as_text=True)
    assert "više od 5 tiketa" in latin and "Strana 3 od više od 3" in latin and "prvih 5 tiketa" in latin
    cyrillic = client.get("/console?status=&page=3&lang=sr-Cyrl").get_data(as_text=True)
    assert "више од 5 тикета" in cyrillic and "Страна 3 од више од 3" in cyrillic


def test_a_view_past_the_cap_sorts_only_by_an_indexed_order_and_says_so(
    client: Any, services: Services, capped: None
) -> None:
    boss = login(client, services, "supervisor")
    _fill(services, 60)
    by_due = refs(client.get("/console?status=&lang=en").get_data(as_text=True))
    for column in (c for c in SORTS if c not in listing.INDEXED_SORTS):
        for direction in ("asc", "desc"):
            url = f"/console?status=&sort={column}&dir={direction}&lang=en"
            page = client.get(url).get_data(as_text=True)
            assert refs(page) == by_due, column  # the due order, not a sort of every ticket
            assert 'id="sort-refused"' in page and "is offered for up to 5 tickets" in page
            # The headers say the order shown, and the pages keep it (no sort in their links).
            assert re.search(r'aria-sort="ascending" class="col-due"', page)
            assert f"sort={column}" not in page.split('class="pager"')[1]
    latin = client.get("/console?status=&sort=subject&lang=sr-Latn").get_data(as_text=True)
    assert "Sortiranje po koloni „Naslov“ moguće je do 5 tiketa" in latin
    cyrillic = client.get("/console?status=&sort=subject&lang=sr-Cyrl").get_data(as_text=True)
    assert "Сортирање по колони „Наслов“ могуће је до 5 тикета" in cyrillic
    # The indexed orders are kept past the cap; under the cap (a search, a narrow filter, the
    # open tickets) every column sorts as asked, in the old query's order.
    viewer = Viewer(boss, "x", "supervisor", frozenset())
    for f in (Filters(status="", sort="reference", dir="desc"), Filters(status="", sort="due", dir="desc")):
        shown = list_page(services, viewer, f)
        assert shown.capped and not shown.refused_sort
        with services.db.session() as s:
            assert [t["reference"] for t in shown.tickets] == list(s.scalars(_old_order(viewer, f)))[:2]
    with services.db.session() as s:
        channel = s.scalar(
            text(
                "SELECT channel FROM tickets WHERE status = 'closed' AND merged_into_id IS NULL"
                " GROUP BY channel HAVING count(*) BETWEEN 2 AND 5 ORDER BY channel"
            )
        )
    for f in (Filters(status="closed", channel=channel, sort="subject", dir="desc"), Filters(sort="updated")):
        shown = list_page(services, viewer, f)
        assert not shown.refused_sort
        with services.db.session() as s:
            assert [t["reference"] for t in shown.tickets] == list(s.scalars(_old_order(viewer, f)))[:2]
    url = f"/console?status=closed&channel={channel}&sort=subject&lang=en"
    narrow = client.get(url).get_data(as_text=True)
    assert 'id="sort-refused"' not in narrow and 'aria-sort="ascending" class="col-subject"' in narrow


def test_a_view_under_the_cap_and_the_open_views_keep_their_exact_totals(
    client: Any, services: Services, capped: None
) -> None:
    login(client, services, "supervisor")
    _fill(services, 60)
    with services.db.session() as s:
        by_channel = dict(
            s.execute(
                text(
                    "SELECT channel, count(*) FROM tickets WHERE merged_into_id IS NULL"
                    " AND status = 'closed' GROUP BY channel"
                )
            ).all()
        )
        open_ = s.scalar(
            text(
                "SELECT count(*) FROM tickets"
                " WHERE status IN ('new', 'open', 'pending') AND merged_into_id IS NULL"
            )
        )
    channel, few = next((c, n) for c, n in sorted(by_channel.items()) if 1 < n <= 5)
    assert open_ > 5
    page = client.get(f"/console?status=closed&channel={channel}&lang=en").get_data(as_text=True)
    assert f"{few} tickets" in page and "more than" not in page
    default = client.get("/console?lang=en").get_data(as_text=True)  # summed from the kept counts
    assert f"{open_} tickets" in default and "more than" not in default
    assert f"Page 1 of {-(-open_ // 2)}" in default


def _plan(svc: Services, f: Filters) -> str:
    """The plan of the page's id query (PostgreSQL: with scans and sorts discouraged, so a plan
    names the index whenever the index can give the order at all)."""
    viewer = Viewer(1, "x", "supervisor", frozenset())
    stmt = page_ids_statement(f, _conditions(viewer, f, T0), 50, 0, svc.db.dialect)
    sql = str(stmt.compile(svc.db.engine, compile_kwargs={"literal_binds": True}))
    with svc.db.engine.connect() as conn:
        if svc.db.dialect == "sqlite":
            return "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        conn.exec_driver_sql("SET enable_bitmapscan = off")
        return "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))


def test_the_due_order_indexes_serve_the_lists_order_on_both_databases(store: Services) -> None:
    _fill(store, 40)
    assert "ix_tickets_due_order" in _plan(store, Filters(status=""))
    assert "ix_tickets_status_due_order" in _plan(store, Filters(status="closed"))
    if store.db.dialect == "sqlite":  # both directions (PostgreSQL: ascending, its NULLS LAST)
        assert "ix_tickets_due_order" in _plan(store, Filters(status="", sort="due", dir="desc"))
        assert "ix_tickets_status_due_order" in _plan(store, Filters(status="closed", sort="due", dir="desc"))
        # The open tickets' views sort their few rows; never a walk of every deadline.
        assert "due_order" not in _plan(store, Filters())
        assert "due_order" not in _plan(store, Filters(overdue=True))


def test_postgresql_reads_the_due_index_backwards_for_the_latest_deadlines_first(store: Services) -> None:
    """Descending due order over a big view: PostgreSQL reads the index backwards (its DESC NULLS
    FIRST) for the tickets with a deadline and takes those without one after them, by id; the
    pages are the old query's (the every-view test above), the plan walks the index."""
    _fill(store, 40)
    viewer = Viewer(1, "x", "supervisor", frozenset())
    for f, index in (
        (Filters(status="", sort="due", dir="desc"), "ix_tickets_due_order"),
        (Filters(status="closed", sort="due", dir="desc"), "ix_tickets_status_due_order"),
    ):
        stmt = page_ids_statement(f, _conditions(viewer, f, T0), 50, 0, store.db.dialect)
        sql = str(stmt.compile(store.db.engine))
        if store.db.dialect == "postgresql":
            assert "UNION ALL" in sql
            plan = _plan(store, f)
            assert f"Index Scan Backward using {index}" in plan, plan
        else:  # SQLite reads an ascending index backwards as DESC NULLS LAST: one statement
            assert "UNION" not in sql and index in _plan(store, f)
    # Any other order, or the open tickets' views, keep the one statement.
    for f in (Filters(status="", sort="due"), Filters(sort="due", dir="desc")):
        stmt = page_ids_statement(f, _conditions(viewer, f, T0), 50, 0, store.db.dialect)
        assert "UNION" not in str(stmt.compile(store.db.engine))


def test_the_open_views_walk_each_open_status_in_due_order_and_list_the_old_pages(
    store: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default view, unassigned, overdue, a channel, for a supervisor and an agent: every page
    is the old query's, read as one walk of ix_tickets_status_due_order per open status (on
    SQLite for the first WALK_DUE_ROWS rows only: here pages 1-2 of 3; the third sorts)."""
    monkeypatch.setattr(listing, "WALK_DUE_ROWS", 6)
    agents = _fill(store, 400)
    viewers = [
        Viewer(agents[0], "ana", "supervisor", frozenset()),
        Viewer(agents[1], "Boris", "agent", frozenset({"payments"})),
    ]
    pages: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.startswith(("SELECT tickets.id", "SELECT anon_1.id")) and "ORDER BY" in statement:
            pages.append(statement)  # a page's ids

    event.listen(store.db.engine, "before_cursor_execute", record)
    try:
        for viewer in viewers:
            for f in (Filters(), Filters(unassigned=True), Filters(overdue=True), Filters(channel="phone")):
                with store.db.session() as s:
                    expected = list(s.scalars(_old_order(viewer, f)))[:9]
                assert len(expected) == 9, (viewer.role, f)
                shown = [list_page(store, viewer, replace(f, page=p), per_page=3) for p in (1, 2, 3)]
                assert sum(([t["reference"] for t in page.tickets] for page in shown), []) == expected, f
            # One agent's tickets, one queue's: found by their own index and sorted, not walked.
            for f in (Filters(mine=True), Filters(queue="payments")):
                list_page(store, viewer, f, per_page=3)
    finally:
        event.remove(store.db.engine, "before_cursor_execute", record)
    walked = [sql for sql in pages if "UNION ALL" in sql]
    assert len(pages) == 2 * (4 * 3 + 2)
    assert len(walked) == 2 * 4 * (3 if store.db.dialect == "postgresql" else 2)
    f = Filters()
    arms = [_conditions(viewers[0], f, T0, one_status=status) for status in ("new", "open", "pending")]
    stmt = listing._merged_statuses(arms, 50, 0)
    sql = str(stmt.compile(store.db.engine, compile_kwargs={"literal_binds": True}))
    with store.db.engine.connect() as conn:
        if store.db.dialect == "sqlite":
            plan = "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        else:  # a table this small is read whole unless told otherwise
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
    assert plan.count("ix_tickets_status_due_order") == 3, plan


def test_a_queue_past_the_cap_walks_the_due_index_on_sqlite_for_its_first_pages(
    store: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    monkeypatch.setattr(listing, "WALK_DUE_ROWS", 4)  # pages 1 and 2 of 2 walk, page 3 sorts
    agents = _fill(store, 200)
    viewer = Viewer(agents[0], "ana", "supervisor", frozenset())
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if "ORDER BY" in statement and statement.startswith("SELECT tickets.id"):  # a page's ids
            statements.append(statement)

    event.listen(store.db.engine, "before_cursor_execute", record)
    try:
        for status in ("", "closed"):
            for direction in ("asc", "desc"):
                f = Filters(status=status, queue="payments", sort="due", dir=direction)
                with store.db.session() as s:
                    expected = list(s.scalars(_old_order(viewer, f)))[:5]
                listed: list[str] = []
                for page in (1, 2, 3):
                    shown = list_page(store, viewer, replace(f, page=page), per_page=2)
                    assert shown.capped
                    listed += [t["reference"] for t in shown.tickets]
                assert listed == expected, (status, direction)
    finally:
        event.remove(store.db.engine, "before_cursor_execute", record)
    walked = [sql for sql in statements if "+tickets.queue" in sql]
    if store.db.dialect == "sqlite":
        assert len(walked) == 2 * 2 * 2 and len(statements) == 3 * 2 * 2  # pages 1-2 of each view
        f = Filters(status="", queue="payments")
        stmt = page_ids_statement(f, _conditions(viewer, f, T0, walk_due=True), 50, 0)
        sql = str(stmt.compile(store.db.engine, compile_kwargs={"literal_binds": True}))
        with store.db.engine.connect() as conn:
            plan = " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        assert "ix_tickets_due_order" in plan and "ix_tickets_queue_status" not in plan
    else:  # PostgreSQL's statistics know a queue's size: its planner chooses without the hint
        assert not walked


def test_an_open_view_counts_rows_not_ids(store: Services) -> None:
    """count(*): PostgreSQL can count from an index without the ids (ix_tickets_open_counts)."""
    agents = _fill(store, 30)
    viewer = Viewer(agents[0], "ana", "supervisor", frozenset())
    counts: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if "count(" in statement.lower():
            counts.append(" ".join(statement.lower().split()))

    event.listen(store.db.engine, "before_cursor_execute", record)
    try:
        shown = list_page(store, viewer, Filters(status="new", channel="phone"))
    finally:
        event.remove(store.db.engine, "before_cursor_execute", record)
    with store.db.session() as s:
        expected = s.scalar(
            text(
                "SELECT count(*) FROM tickets WHERE status = 'new' AND channel = 'phone'"
                " AND merged_into_id IS NULL"
            )
        )
    assert shown.total == expected
    assert counts and all("count(*)" in c and "count(tickets.id)" not in c for c in counts), counts


def test_an_open_view_by_channel_counts_its_total_from_the_index_alone(store: Services) -> None:
    """No row is read to count the open tickets of a channel (ix_tickets_open_counts holds it,
    migration 0037), for a supervisor or an agent; the totals are the tickets'."""
    agents = _fill(store, 120)
    viewer = Viewer(agents[1], "Boris", "agent", frozenset({"payments"}))
    counts: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement.startswith("SELECT count(*)"):
            counts.append((statement, parameters))

    event.listen(store.db.engine, "before_cursor_execute", record)
    try:
        shown = [
            list_page(store, v, f)
            for v in (Viewer(agents[0], "ana", "supervisor", frozenset()), viewer)
            for f in (Filters(channel="phone"), Filters(channel="email"))
        ]
    finally:
        event.remove(store.db.engine, "before_cursor_execute", record)
    with store.db.session() as s:
        expected = [
            s.scalar(select(func.count()).select_from(Ticket).where(*_conditions(v, f, T0)))
            for v in (Viewer(agents[0], "ana", "supervisor", frozenset()), viewer)
            for f in (Filters(channel="phone"), Filters(channel="email"))
        ]
    assert [page.total for page in shown] == expected and all(expected)
    assert len(counts) == 4
    if store.db.dialect == "postgresql":  # statistics and the visibility map, as a big store has them
        with store.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE tickets")
    with store.db.engine.connect() as conn:
        for sql, parameters in counts:
            if store.db.dialect == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)
                plan = " ".join(row[-1] for row in rows)
                assert "COVERING INDEX ix_tickets_open_counts" in plan, plan
            else:  # a table this small is read whole unless told otherwise
                conn.exec_driver_sql("SET enable_seqscan = off")
                conn.exec_driver_sql("SET enable_bitmapscan = off")
                plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, parameters))
                assert "Index Only Scan using ix_tickets_open_counts" in plan, plan


def _stat_rows(svc: Services) -> int:
    with svc.db.engine.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
            return 0
        return int(
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'tickets'").scalar() or 0
        )


def test_an_upgrade_analyzes_a_big_sqlite_store_once_and_leaves_a_small_one_alone(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(services, 30)
    migrate.upgrade(services.db)  # at the head: only the statistics step runs
    assert _stat_rows(services) == 0  # 30 tickets: under ANALYZE_FROM_TICKETS, no statistics
    monkeypatch.setattr(migrate, "ANALYZE_FROM_TICKETS", 20)
    migrate.upgrade(services.db)
    assert _stat_rows(services) > 0
    with services.db.engine.connect() as conn:
        indexes = {r[0] for r in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'tickets'")}
    assert {"ix_tickets_due_order", "ix_tickets_status_due_order"} <= indexes
    # Restarting an unchanged store does not read every index again (~10 s at a million tickets);
    # a table grown by STALE_GROWTH since the statistics were taken does.
    with services.db.engine.connect() as conn:
        assert migrate.analyzed_tickets(conn) == 30
    assert migrate.refresh_statistics(services.db, migrated=False) is False
    assert migrate.refresh_statistics(services.db, migrated=True) is True
    monkeypatch.setattr(migrate, "STALE_GROWTH", 1.0)
    assert migrate.refresh_statistics(services.db, migrated=False) is True


def test_the_migration_makes_the_indexes_and_postgresql_statistics_of_the_due_time(store: Services) -> None:
    _fill(store, 30)
    config = migrate.alembic_config(store.db.url)
    with store.db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0034_metricsq_open_counts")
    with store.db.engine.connect() as conn:
        if store.db.dialect == "postgresql":
            conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            assert conn.exec_driver_sql("SELECT to_regclass('ix_tickets_due_order')").scalar() is None
    migrate.upgrade(store.db)
    with store.db.engine.connect() as conn:
        if store.db.dialect == "sqlite":
            made = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
        else:
            made = {
                r[0]
                for r in conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'tickets'")
            }
            # The expression's statistics (ANALYZE in the migration): its distinct values known.
            stats = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stats"
                " WHERE tablename IN ('ix_tickets_due_order', 'ix_tickets_status_due_order')"
            ).scalar()
            assert stats and stats >= 2
    assert {"ix_tickets_due_order", "ix_tickets_status_due_order"} <= made


def test_the_category_menu_lists_every_category_tickets_have_and_the_managed_ones(store: Services) -> None:
    from helpdesk.console.queries import categories

    _fill(store, 30)
    with store.db.transaction() as s:
        s.execute(Ticket.__table__.update().where(Ticket.id == 3).values(category="zz_unmanaged"))
        s.execute(Ticket.__table__.update().where(Ticket.id == 4).values(category="aa_unmanaged"))
    listed = categories(store)
    assert {"taxes", "other", "zz_unmanaged", "aa_unmanaged"} <= set(listed)
    with store.db.session() as s:
        distinct = set(s.scalars(select(Ticket.category).where(Ticket.category.is_not(None)).distinct()))
        managed = set(s.scalars(text("SELECT key FROM categories")))
    assert listed == sorted(distinct | managed)
