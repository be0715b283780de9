"""Which reads use the covering index ix_tickets_open_counts, and what dropping it costs them.

Runs the real reads that filter tickets by status (the console list in its views, the API list,
live counters, the monitoring scrape, the SLA watch's candidates, routing's load per agent,
the admin routes page, retention, the inbound "open ticket of this contact" lookup, and the
queue counts' old SQL) on a store, with the index and without it, in alternating rounds: the
index is dropped and made again as migration 0017 made it (then ANALYZE on SQLite, whose
planner reads the index's statistics). Prints each case's median time per mode and round, and
(SQLite) the VM instructions of one run, which the machine's load does not change; with
--plans, every ticket statement's plan in both modes, flagged where it names the index.

    .venv/bin/python bench/metrics/open_index_plans.py --database-url sqlite:////tmp/dropindex100k/helpdesk.db
    .venv/bin/python bench/metrics/open_index_plans.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/dropindex_big --plans

The store must be a copy: the index is dropped and made again on it (left as found).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, event, func, select, text  # noqa: E402
from sqlalchemy.pool import Pool  # noqa: E402

from helpdesk.access import Viewer, ticket_filter  # noqa: E402
from helpdesk.administration.routes import route_effects  # noqa: E402
from helpdesk.console.filters import Filters  # noqa: E402
from helpdesk.console.listing import list_page  # noqa: E402
from helpdesk.db import Database  # noqa: E402
from helpdesk.metrics import Filters as MetricFilters  # noqa: E402
from helpdesk.metrics import live_counters  # noqa: E402
from helpdesk.models import OPEN_STATUSES, Agent, Ticket  # noqa: E402
from helpdesk.monitoring import StoreCollector  # noqa: E402
from helpdesk.services import Services  # noqa: E402
from helpdesk.settings import Settings  # noqa: E402
from helpdesk.sla.checker import BATCH, _running_due_by  # noqa: E402
from helpdesk.tickets.inbound_rows import OWN_OPEN_ON_CHANNEL  # noqa: E402

INDEX = "ix_tickets_open_counts"
CREATE = f"CREATE INDEX {INDEX} ON tickets (status, merged_into_id, queue, assignee_id)"  # as 0017
_OPEN = "status IN ('new', 'open', 'pending') AND merged_into_id IS NULL"
OLD_QUEUE_COUNTS = (  # what queue_counts() and list_queues() counted before migration 0034
    f"SELECT queue, count(*) FROM tickets WHERE {_OPEN} GROUP BY queue",
    f"SELECT count(*) FROM tickets WHERE {_OPEN} AND assignee_id = :me",
    f"SELECT count(*) FROM tickets WHERE {_OPEN} AND assignee_id IS NULL",
)
VM_STEP = 1_000  # SQLite instructions per progress-handler call, in the counting run only


class VmCount:
    """SQLite VM instructions of one run: a progress handler on each connection checked out while
    counting (a separate, untimed run: the handler's Python calls slow the queries down)."""

    def __init__(self) -> None:
        self.on = False
        self.steps = 0
        event.listen(Pool, "checkout", self._checkout)
        event.listen(Pool, "checkin", self._checkin)

    def _step(self) -> int:
        self.steps += 1
        return 0

    def _checkout(self, dbapi_conn: Any, *rest: Any) -> None:
        if self.on and hasattr(dbapi_conn, "set_progress_handler"):
            dbapi_conn.set_progress_handler(self._step, VM_STEP)

    def _checkin(self, dbapi_conn: Any, *rest: Any) -> None:
        if hasattr(dbapi_conn, "set_progress_handler"):
            dbapi_conn.set_progress_handler(None, 0)

    def count(self, fn: Callable[[], object]) -> int:
        self.on, self.steps = True, 0
        try:
            fn()
        finally:
            self.on = False
        return self.steps * VM_STEP


VM = VmCount()


class Statements:
    """The ticket statements of the last run of a case, with their parameters, for EXPLAIN."""

    def __init__(self) -> None:
        self.on = False
        self.seen: list[tuple[str, Any]] = []
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if self.on and "tickets" in statement and not statement.lstrip().upper().startswith("EXPLAIN"):
            self.seen.append((statement, parameters))


STATEMENTS = Statements()


def has_index(db: Database) -> bool:
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            return conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": INDEX}).scalar() is True
        return conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = :n"), {"n": INDEX}
        ).scalar() == 1


def set_index(db: Database, present: bool) -> float:
    """Drop or make the index; the seconds it took."""
    if has_index(db) == present:
        return 0.0
    started = time.perf_counter()
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text(CREATE if present else f"DROP INDEX {INDEX}"))
        if db.dialect == "sqlite":
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def cases(svc: Services) -> dict[str, Callable[[], object]]:
    db = svc.db
    with db.session() as s:
        busiest = [q for q, in s.execute(
            select(Ticket.queue).where(Ticket.status.in_(OPEN_STATUSES)).group_by(Ticket.queue)
            .order_by(func.count().desc()).limit(2)
        )]
        agent_id = s.scalar(
            select(Ticket.assignee_id).where(Ticket.assignee_id.is_not(None), Ticket.status == "open")
            .group_by(Ticket.assignee_id).order_by(func.count().desc()).limit(1)
        ) or 1
        agent_ids = list(s.scalars(select(Agent.id).order_by(Agent.id).limit(6)))
        contact_channel = s.execute(
            select(Ticket.contact_id, Ticket.channel).where(Ticket.status == "open").limit(1)
        ).first()
    supervisor = Viewer(agent_id, "bench", "supervisor", frozenset())
    agent = Viewer(agent_id, "bench", "agent", frozenset(busiest))
    now = svc.clock.now()
    newest = None
    with db.session() as s:
        newest = s.scalar(select(func.max(Ticket.created_at)))
    moment = newest or now

    def page(viewer: Viewer, **kw: Any) -> Callable[[], object]:
        return lambda: list_page(svc, viewer, Filters(**kw)).total

    def api_list(status: str) -> Callable[[], object]:
        stmt = select(Ticket).where(Ticket.merged_into_id.is_(None), ticket_filter(supervisor),
                                    Ticket.status == status)

        def run() -> object:
            with db.session() as s:
                total = s.scalar(select(func.count()).select_from(stmt.subquery()))
                rows = s.scalars(stmt.order_by(Ticket.id.desc()).limit(25)).all()
                return total, len(rows)
        return run

    def sql(statement: str, **params: Any) -> Callable[[], object]:
        def run() -> object:
            with db.engine.connect() as conn:
                return conn.execute(text(statement), params).all()
        return run

    def stmt_rows(stmt: Any, **params: Any) -> Callable[[], object]:
        def run() -> object:
            with db.engine.connect() as conn:
                return conn.execute(stmt, params).all()
        return run

    monitor = StoreCollector(svc)
    tz = ZoneInfo(svc.settings.timezone)
    return {
        "console list, supervisor, active (default)": page(supervisor),
        "console list, supervisor, active, one queue": page(supervisor, queue=busiest[0]),
        "console list, agent (2 queues), active": page(agent),
        "console list, mine": page(agent, mine=True),
        "console list, unassigned": page(supervisor, unassigned=True),
        "console list, pending": page(supervisor, status="pending"),
        "console list, closed": page(supervisor, status="closed"),
        "console list, overdue": page(supervisor, overdue=True),
        "console list, any status": page(supervisor, status=""),
        "API list, status=open": api_list("open"),
        "API list, status=resolved": api_list("resolved"),
        "live counters (supervisor page)": lambda: live_counters(db, moment, tz, MetricFilters()),
        "monitoring scrape (StoreCollector)": lambda: list(monitor.collect()),
        "SLA watch candidates": stmt_rows(
            select(Ticket.id).where(_running_due_by(moment)).order_by(Ticket.id).limit(BATCH)
        ),
        "routing: open tickets per agent": stmt_rows(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.assignee_id.in_(agent_ids), Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.assignee_id)
        ),
        "admin routes page (route_effects)": lambda: route_effects(svc),
        "inbound: contact's open ticket on a channel": stmt_rows(
            OWN_OPEN_ON_CHANNEL, contact_id=contact_channel[0] if contact_channel else 0,
            channel=contact_channel[1] if contact_channel else "web",
        ),
        "old queue counts: per queue": sql(OLD_QUEUE_COUNTS[0]),
        "old queue counts: mine": sql(OLD_QUEUE_COUNTS[1], me=agent_id),
        "old queue counts: unassigned": sql(OLD_QUEUE_COUNTS[2]),
    }


def explain(db: Database, statement: str, parameters: Any) -> str:
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            return "\n".join(r[0] for r in rows)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(r[-1] for r in rows)


def shape(plan: str) -> str:
    """The plan without its estimates, timings and counters: what to compare between modes."""
    kept = [re.sub(r"\s*\((?:cost|actual)[^)]*\)", "", line) for line in plan.splitlines()
            if not re.match(r"\s*(Buffers|Planning|Execution|Heap Fetches|Rows Removed|Worker|Sort Method"
                            r"|Batches|Memory Usage|Heap Blocks)", line)]
    return "\n".join(kept)


def buffers(plan: str) -> int:
    """PostgreSQL: the pages the statement touched (shared hit + read of its top node)."""
    for line in plan.splitlines():
        if "Buffers:" in line:
            return sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", line.split("temp")[0]))
    return 0


def run_case(
    fn: Callable[[], object], repeat: int, sqlite: bool
) -> tuple[float, int, list[tuple[str, Any]]]:
    fn()  # warm
    times = []
    for i in range(repeat):
        STATEMENTS.on, STATEMENTS.seen = i == repeat - 1, []
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        STATEMENTS.on = False
    return statistics.median(times), VM.count(fn) if sqlite else 0, STATEMENTS.seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/open-index-plans"))
    parser.add_argument("--repeat", type=int, default=5, help="runs per case and round (median)")
    parser.add_argument("--rounds", type=int, default=2, help="with / without pairs")
    parser.add_argument("--plans", action="store_true", help="print every plan in both modes")
    parser.add_argument("--only", default="", help="cases whose name contains this")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(args.database_url)
    settings = Settings(data_dir=args.data_dir, database_url=args.database_url, secret_key="bench").resolved()
    svc = Services(settings=settings, db=db)
    found = has_index(db)
    chosen = {k: v for k, v in cases(svc).items() if args.only in k}
    results: dict[str, dict[bool, list[tuple[float, int]]]] = {k: {True: [], False: []} for k in chosen}
    plans: dict[str, dict[bool, list[str]]] = {k: {True: [], False: []} for k in chosen}
    try:
        for rnd in range(args.rounds):
            for present in (True, False) if rnd % 2 == 0 else (False, True):
                took = set_index(db, present)
                print(f"round {rnd + 1}: index {'present' if present else 'dropped'}"
                      f"{f' (made in {took:.1f} s)' if present and took else ''}", flush=True)
                for name, fn in chosen.items():
                    ms, vm, seen = run_case(fn, args.repeat, db.dialect == "sqlite")
                    results[name][present].append((ms, vm))
                    if rnd == 0:
                        plans[name][present] = [explain(db, st, p) for st, p in seen]
    finally:
        set_index(db, found)
    work = "SQLite VM M instr." if db.dialect == "sqlite" else "PG buffers"
    print(f"\n{'case':46} {'with index ms':>22} {'without ms':>22}  {work} with / without  uses index")
    for name in chosen:
        w, wo = results[name][True], results[name][False]
        if db.dialect == "sqlite":
            done = f"{w[0][1] / 1e6:.2f} / {wo[0][1] / 1e6:.2f}"
        else:
            done = " / ".join(str(sum(buffers(p) for p in plans[name][m])) for m in (True, False))
        with_ms = " / ".join(f"{m:.1f}" for m, _ in w)
        without_ms = " / ".join(f"{m:.1f}" for m, _ in wo)
        uses = any(INDEX in p for p in plans[name][True])
        print(f"{name:46} {with_ms:>22} {without_ms:>22}  {done:>20}  {'YES' if uses else 'no'}")
    if args.plans:
        for name in chosen:
            print(f"\n=== {name}")
            for i, (a, b) in enumerate(zip(plans[name][True], plans[name][False], strict=False)):
                changed = shape(a) != shape(b)
                mark = "  (plan changes)" if changed else ""
                print(f"--- statement {i + 1}, with index{mark}:\n{a}")
                if changed:
                    print(f"--- statement {i + 1}, without:\n{b}")


if __name__ == "__main__":
    main()
