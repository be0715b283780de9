"""The agent console's ticket list (`list_page`) on a large store, beside raw baselines in the same run.

    .venv/bin/python bench/console/bench_list.py --data-dir /work/anyview-sqlite
    .venv/bin/python bench/console/bench_list.py --data-dir /tmp/anyview-pg \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/anyview_big

The store is measured as it is (nothing is filled, nothing analyzed: SQLite's planner sees the
statistics the store has, or none; say `--analyze` to run SQLite's ANALYZE first). Each case runs
`--repeat` times after one warm-up and the table gives p50 / p95 / max and the ratio to the
first baseline:

* baselines: a bare `SELECT * FROM tickets ORDER BY id DESC LIMIT 50` and a bare
  `SELECT COUNT(*) FROM tickets`;
* `list_page` in-process for the views an agent clicks, as a supervisor (sees every queue) and
  as an agent who works two queues: the default (open tickets by due time), mine, unassigned,
  overdue, each status, any status, a channel, a category, a queue (open and any status), page
  200 of the big views, and every sort column ascending and descending for every status choice
  (open, each status, any status) and a queue of any status;
* `GET /console` as served (a real server on a loopback port, logged in as the demo
  supervisor): the default view, any status, closed, and page 200 of any status.

The "total" column is what the page says (`>10,000` where the count was capped). With --plans
each case's statements are printed with their plans (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's
EXPLAIN) after the table; with --vm, SQLite's VM instructions of one extra untimed run, which
the machine's load does not change.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, event, select, text  # noqa: E402
from sqlalchemy.pool import Pool  # noqa: E402

from bench.metrics.http_page import logged_in_page  # noqa: E402
from bench.metrics.search_cases import percentiles  # noqa: E402
from helpdesk.access import Viewer, load_viewer  # noqa: E402
from helpdesk.console.filters import SORTS, Filters  # noqa: E402
from helpdesk.console.listing import ListPage, list_page  # noqa: E402
from helpdesk.db import Database  # noqa: E402
from helpdesk.demo import DEMO_LOGINS  # noqa: E402
from helpdesk.models import STATUSES, Agent  # noqa: E402
from helpdesk.services import Services  # noqa: E402
from helpdesk.settings import Settings  # noqa: E402

AGENT_QUEUES = frozenset({"payments", "documents"})  # the queue-limited agent works these two
DEEP_PAGE = 200
VM_STEP = 1_000


class Watch:
    """The ticket statements of a run (for --plans) and SQLite's VM instructions (for --vm),
    each only while asked for: neither slows the timed runs."""

    def __init__(self) -> None:
        self.recording = False
        self.counting = False
        self.statements: list[tuple[str, Any]] = []
        self.steps = 0
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Pool, "checkout", self._checkout)
        event.listen(Pool, "checkin", self._checkin)

    def _statement(self, conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if self.recording and "tickets" in statement:
            self.statements.append((statement, parameters))

    def _step(self) -> int:
        self.steps += 1
        return 0

    def _checkout(self, dbapi_conn: Any, *rest: Any) -> None:
        if self.counting and isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_progress_handler(self._step, VM_STEP)

    def _checkin(self, dbapi_conn: Any, *rest: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_progress_handler(None, 0)

    def record(self, fn: Callable[[], object]) -> list[tuple[str, Any]]:
        self.recording, self.statements = True, []
        try:
            fn()
        finally:
            self.recording = False
        return self.statements

    def vm(self, fn: Callable[[], object]) -> int:
        self.counting, self.steps = True, 0
        try:
            fn()
        finally:
            self.counting = False
        return self.steps * VM_STEP


WATCH = Watch()


@dataclass
class Result:
    name: str
    times: list[float]
    shown: str = ""  # what the page says: its total, and the page number it landed on
    vm: int = 0
    statements: list[tuple[str, Any]] | None = None


def measure(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Times of `repeat` runs after one warm-up (queries, not the first read from disk)."""
    out = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, out


def describe(page: object) -> str:
    if not isinstance(page, ListPage):
        return ""
    capped = getattr(page, "capped", False)  # absent before the capped totals
    total = f">{page.total:,}" if capped else f"{page.total:,}"
    refused = getattr(page, "refused_sort", "")  # absent before the bounded sorts
    return f"{total}, p{page.page}" + (f", by due (not {refused})" if refused else "")


def views(supervisor: Viewer, agent: Viewer, category: str, sorts: bool) -> list[tuple[str, Viewer, Filters]]:
    """(name, viewer, filters) of every case, the supervisor's first."""
    out: list[tuple[str, Viewer, Filters]] = []
    for who, v in (("supervisor", supervisor), ("agent, 2 queues", agent)):
        common = [
            ("default (open, due)", Filters()),
            ("mine", Filters(mine=True)),
            ("unassigned", Filters(unassigned=True)),
            ("overdue", Filters(overdue=True)),
            *((f"status {s}", Filters(status=s)) for s in STATUSES),
            ("any status", Filters(status="")),
            ("channel phone (open)", Filters(channel="phone")),
            ("channel phone, any status", Filters(channel="phone", status="")),
            (f"category {category} (open)", Filters(category=category)),
            (f"category {category}, any status", Filters(category=category, status="")),
            ("queue payments (open)", Filters(queue="payments")),
            ("queue payments, any status", Filters(queue="payments", status="")),
            (f"default, page {DEEP_PAGE}", Filters(page=DEEP_PAGE)),
            (f"any status, page {DEEP_PAGE}", Filters(status="", page=DEEP_PAGE)),
            (f"status closed, page {DEEP_PAGE}", Filters(status="closed", page=DEEP_PAGE)),
            (
                f"channel phone, any status, page {DEEP_PAGE}",
                Filters(channel="phone", status="", page=DEEP_PAGE),
            ),
        ]
        out += [(f"{who}: {name}", v, f) for name, f in common]
    if sorts:
        # Every status choice of the menu (open = the default, each status, any status) and a
        # queue of any status, by every column both ways: each of them is one click away.
        choices = [
            ("open", Filters()),
            *((f"status {s}", Filters(status=s)) for s in STATUSES),
            ("any status", Filters(status="")),
            ("queue payments, any status", Filters(status="", queue="payments")),
        ]
        for label, view in choices:
            for column in SORTS:
                for direction in ("asc", "desc"):
                    f = replace(view, sort=column, dir=direction)
                    out.append((f"supervisor: {label}, sort {column} {direction}", supervisor, f))
            f = replace(view, sort="due", dir="desc", page=DEEP_PAGE)
            out.append((f"supervisor: {label}, sort due desc, page {DEEP_PAGE}", supervisor, f))
    return out


def explain(db: Database, statements: list[tuple[str, Any]]) -> list[str]:
    lines = []
    with db.engine.connect() as conn:
        for sql, params in statements:
            lines.append("    " + " ".join(sql.split())[:400])
            prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
            rows = conn.exec_driver_sql(prefix + sql, params).all()
            for row in rows:
                lines.append("      " + (row[-1] if db.dialect == "sqlite" else row[0]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-sorts", action="store_true", help="skip the sort columns")
    parser.add_argument("--no-http", action="store_true", help="skip GET /console")
    parser.add_argument("--only", default="", help="only the cases whose name contains this")
    parser.add_argument("--analyze", action="store_true", help="SQLite: ANALYZE before measuring")
    parser.add_argument("--plans", action="store_true", help="print each case's statement plans")
    parser.add_argument("--vm", action="store_true", help="SQLite: VM instructions of one run")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.data_dir.resolve() / 'helpdesk.db'}"
    db = Database(url)
    if args.analyze and db.dialect == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    settings = Settings(data_dir=args.data_dir, database_url=url, secret_key="bench").resolved()
    svc = Services(settings=settings, db=db)
    load = os.getloadavg()
    with db.session() as s:
        boss_email = next(d.email for d in DEMO_LOGINS if d.role == "supervisor")
        agent_email = next(d.email for d in DEMO_LOGINS if d.role == "agent")
        boss_id = s.scalar(select(Agent.id).where(Agent.email == boss_email))
        agent_id = s.scalar(select(Agent.id).where(Agent.email == agent_email))
        stats = ""
        if db.dialect == "sqlite":
            has_stat = s.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
            rows = s.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar() if has_stat else 0
            stats = f"SQLite {sqlite3.sqlite_version}, sqlite_stat1 rows: {rows}"
        else:
            stats = str(s.execute(text("SHOW server_version")).scalar())
    supervisor = load_viewer(svc, boss_id)
    agent_row = load_viewer(svc, agent_id)
    assert supervisor is not None and agent_row is not None, "not a demo store (no demo logins)"
    agent = Viewer(agent_row.id, agent_row.name, "agent", AGENT_QUEUES)

    def bare_page() -> object:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT * FROM tickets ORDER BY id DESC LIMIT 50")).all()

    def bare_count() -> object:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar()

    results: list[Result] = []

    def case(name: str, fn: Callable[[], object]) -> None:
        if args.only and args.only not in name and not name.startswith("baseline"):
            return
        times, out = measure(fn, args.repeat)
        result = Result(name, times, describe(out))
        if args.vm and db.dialect == "sqlite":
            result.vm = WATCH.vm(fn)
        if args.plans:
            result.statements = WATCH.record(fn)
        results.append(result)
        p50, p95 = percentiles(times)
        print(f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms  {result.shown}", file=sys.stderr, flush=True)

    case("baseline: SELECT * FROM tickets ORDER BY id DESC LIMIT 50", bare_page)
    case("baseline: SELECT COUNT(*) FROM tickets", bare_count)
    for name, viewer, f in views(supervisor, agent, "taxes", not args.no_sorts):
        case(name, lambda viewer=viewer, f=f: list_page(svc, viewer, f))
    if not args.no_http:
        with logged_in_page(args.data_dir, url, "/console") as get:
            for name, path in (
                ("GET /console (default view)", "/console"),
                ("GET /console?status= (any status)", "/console?status="),
                ("GET /console?status=closed", "/console?status=closed"),
                (f"GET /console?status=&page={DEEP_PAGE}", f"/console?status=&page={DEEP_PAGE}"),
            ):
                case(name, lambda path=path: get(path))
    with db.session() as s:
        tickets = s.execute(text("SELECT COUNT(*) FROM tickets")).scalar() or 0
    end_load = os.getloadavg()
    print(
        f"\n{db.dialect} ({stats}), {tickets:,} tickets, {args.repeat} runs after one warm-up each; "
        f"load average {load[0]:.1f} at the start, {end_load[0]:.1f} at the end\n"
    )
    table(results, db.dialect == "sqlite" and args.vm)
    if args.plans:
        for r in results:
            if r.statements:
                print(f"{r.name}:")
                print("\n".join(explain(db, r.statements)))
    db.dispose()


def table(results: list[Result], vm: bool) -> None:
    extra = f" {'M VM':>8} |" if vm else ""
    head = f"| {'case':<58} | {'p50 ms':>8} | {'p95 ms':>8} | {'max ms':>8} | {'x first':>7}"
    print(f"{head} | {'total, page':>17} |{extra}")
    rule = f"| {'-' * 58} | {'-' * 8} | {'-' * 8} | {'-' * 8} | {'-' * 7} | {'-' * 17} |"
    print(rule + (" -------- |" if vm else ""))
    base = None
    for r in results:
        p50, p95 = percentiles(r.times)
        base = base or p50 or 1.0
        counts = f" {r.vm / 1e6:>8,.1f} |" if vm else ""
        print(
            f"| {r.name:<58} | {p50:>8.1f} | {p95:>8.1f} | {max(r.times):>8.1f} | {p50 / base:>7.1f} "
            f"| {r.shown:>17} |{counts}",
            flush=True,
        )
    print()


if __name__ == "__main__":
    main()
