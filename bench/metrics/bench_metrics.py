"""Supervisor figures, console queue counts and ticket search on a large store, beside raw
baselines in the same run.

    .venv/bin/python bench/metrics/bench_metrics.py --data-dir /work/big/sqlite --no-fill
    .venv/bin/python bench/metrics/bench_metrics.py --data-dir /work/big/pg --no-fill \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/helpdesk_big

Without --no-fill the store is filled first with `helpdesk demo-data --tickets N --weeks 52`
when it has fewer tickets (later runs reuse it). Then each case runs `--repeat` times after one
warm-up, and the table gives p50 / p95 / max:

* baseline: a bare `SELECT COUNT(*) FROM tickets`;
* the weekly figures of the last 52 weeks (volume by channel, category, queue, first-response
  and resolution median/p90, SLA compliance, backlog, deflection, csat): the full recomputation
  (the old path), then through the rollups cold (stored weeks dropped before each run), warm,
  and warm after a change three weeks back; by channel; and the dashboard's 12 weeks;
* today's live counters; the console's queue counts (summed from the counts the ticket triggers
  keep: compacted, with `COMPACT_AT` rows pending, and just past it, where the read compacts)
  beside a raw `GROUP BY queue, status` and the three index-only counts it ran before;
* `GET /supervisor` over HTTP (a real server on a loopback port, logged in as the supervisor);
* the changed-week and cold paths (rollup_cases.py): a real reopen (and re-resolve) of a ticket
  created three weeks back, read directly and after the warm-up's pass; the warm-up itself
  (`helpdesk metrics warm`) cold, after such a change, and with nothing to do; `/supervisor` after
  the reopen and after a deploy followed by the warm-up; on SQLite the longest wait for the write
  lock while a cold warm-up runs. Each row also gives the statements and (SQLite) the VM
  instructions of one run, figures the machine's load does not change;
* ticket search (search_cases.py): the console's first page for a word, a reference, an email,
  a phone number and a name, p50 / p95 over `--search-queries` queries of each kind, beside
  the engine's bare match and a reference lookup.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, insert, select, text  # noqa: E402

from bench.metrics.http_page import logged_in_page  # noqa: E402
from bench.metrics.rollup_cases import VM_STEP, Reopener, Work, lock_waits  # noqa: E402
from bench.metrics.search_cases import build_cases, percentiles, search_rows  # noqa: E402
from helpdesk.access import Viewer  # noqa: E402
from helpdesk.console.queries import queue_counts  # noqa: E402
from helpdesk.db import Database  # noqa: E402
from helpdesk.metrics import Filters, Week, live_counters, resolve_weeks, weekly_report  # noqa: E402
from helpdesk.metrics.changes import record_change  # noqa: E402
from helpdesk.metrics.report import recomputed_report  # noqa: E402

try:  # absent before the warm-up existed: the same script measures a checkout of the old code
    from helpdesk.metrics.warm import warm
except ImportError:
    warm = None  # type: ignore[assignment]
from helpdesk.migrate import upgrade  # noqa: E402
from helpdesk.models import ReportWeek, Ticket  # noqa: E402

try:  # absent before the kept open counts (migration 0034)
    from helpdesk.metrics.open_counts import COMPACT_AT, compact
    from helpdesk.models import OpenTicketCount
except ImportError:
    COMPACT_AT, OpenTicketCount, compact = 0, None, None  # type: ignore[assignment,misc]

_OPEN = "status IN ('new', 'open', 'pending') AND merged_into_id IS NULL"
COUNTED_QUEUE_LIST = (
    f"SELECT queue, count(*) FROM tickets WHERE {_OPEN} GROUP BY queue",
    f"SELECT count(*) FROM tickets WHERE {_OPEN} AND assignee_id = :me",
    f"SELECT count(*) FROM tickets WHERE {_OPEN} AND assignee_id IS NULL",
)
from helpdesk.services import Services  # noqa: E402
from helpdesk.settings import Settings  # noqa: E402


def fill(args: argparse.Namespace, db: Database, have: int) -> None:
    env = dict(
        os.environ, HELPDESK_DATA_DIR=str(args.data_dir), HELPDESK_CHANNELS="", HELPDESK_TRIAGE="local"
    )
    if args.database_url:
        env["HELPDESK_DATABASE_URL"] = args.database_url
    cmd = [
        str(ROOT / ".venv/bin/helpdesk"),
        "demo-data",
        "--tickets",
        str(args.tickets - have),
        "--weeks",
        "52",
        "--seed",
        str(1000 + have),
    ]
    print("filling:", " ".join(cmd[1:]), flush=True)
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)


WORK = Work()  # statements and SQLite VM instructions, counted before any engine connects


def measure(
    fn: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
) -> tuple[list[float], tuple[int, int]]:
    """Times of `repeat` runs after one warm-up (we measure queries, not the first disk read);
    `before` runs ahead of each, untimed (to drop the stored weeks for a cold read). Also the
    statements and SQLite VM instructions (in `VM_STEP`s) of the last run."""
    if before is not None:
        before()
    fn()
    times = []
    work = (0, 0)
    for _ in range(repeat):
        if before is not None:
            before()
        WORK.reset()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        work = WORK.reset()
    return times, work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--search-queries", type=int, default=40, help="queries of each kind")
    parser.add_argument("--no-fill", action="store_true", help="measure the store as it is")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{args.data_dir.resolve() / 'helpdesk.db'}"
    db = Database(url)
    upgrade(db)
    with db.session() as s:
        have = int(s.scalar(select(func.count(Ticket.id))) or 0)
    if have < args.tickets and not args.no_fill:
        fill(args, db, have)
    if db.dialect == "postgresql":
        # What autovacuum does soon after a bulk load: statistics, and the visibility map
        # without which PostgreSQL cannot answer from the covering indexes alone.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            tables = (
                "tickets",
                "ticket_search_docs",
                "contacts",
                "contact_identities",
                "contact_name_docs",
                "contact_name_dict",
            )
            for name in tables:
                conn.execute(text(f"VACUUM ANALYZE {name}"))
    elif db.dialect == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    tz = ZoneInfo("Europe/Belgrade")
    with db.session() as s:
        newest = s.scalar(select(func.max(Ticket.created_at))) or datetime.now(UTC)
        total = int(s.scalar(select(func.count(Ticket.id))) or 0)
    now = newest  # the demo history ends at generation time: report the 52 weeks up to it
    weeks52 = resolve_weeks(None, None, now, tz, default=52)
    weeks12 = resolve_weeks(None, None, now, tz, default=12)
    settings = Settings(data_dir=args.data_dir, database_url=url, secret_key="bench").resolved()
    svc = Services(settings=settings, db=db)

    def count_all() -> object:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar()

    def queue_status() -> object:
        with db.engine.connect() as conn:
            return conn.execute(
                text("SELECT queue, status, COUNT(*) FROM tickets GROUP BY queue, status")
            ).all()

    supervisor = Viewer(1, "bench", "supervisor", frozenset())

    def console_queue_list() -> object:
        return queue_counts(svc, supervisor)

    def counted_queue_list() -> object:
        # What queue_counts() ran before the kept counts (migration 0034): three counts of the
        # open tickets over the covering index ix_tickets_open_counts.
        # (SQLite: `assignee_id + 0`, as it did, so its planner keeps to the covering index)
        unindexed = db.dialect == "sqlite"
        with db.engine.connect() as conn:
            return [
                conn.execute(
                    text(sql.replace("assignee_id ", "assignee_id + 0 ") if unindexed else sql),
                    {"me": supervisor.id},
                ).all()
                for sql in COUNTED_QUEUE_LIST
            ]

    def pending_count_rows(rows: int) -> Callable[[], None]:
        # `rows` rows to sum in all, one per key after a compaction and the rest appended since
        # (pairs that cancel: the counts stay right), as after that many ticket changes with no
        # warm-up pass and no compacting read in between.
        def add() -> None:
            compact(db)
            with db.transaction() as s:
                keys = int(s.scalar(select(func.count()).select_from(OpenTicketCount)) or 0)
                n = rows - keys  # +1, -1, ... and a 0 if odd
                deltas = [0 if i == n - 1 and n % 2 else 1 - 2 * (i % 2) for i in range(n)]
                s.execute(insert(OpenTicketCount), [{"queue": "triage", "n": d} for d in deltas])

        return add

    def forget_weeks() -> None:
        with db.transaction() as s:
            s.execute(delete(ReportWeek))

    def touch_three_weeks_ago() -> None:
        # What a reply to a ticket opened three weeks ago logs: those weeks are read again.
        with db.transaction() as s:
            record_change(s.connection(), now - timedelta(weeks=3), now)

    def report(weeks: list[Week], filters: Filters = Filters()) -> Callable[[], object]:
        return lambda: weekly_report(db, weeks, now, filters, tz)

    timings: list[tuple[str, list[float]]] = []
    work: dict[str, tuple[int, int]] = {}

    def case(name: str, fn: Callable[[], object], before: Callable[[], object] | None = None) -> None:
        times, work[name] = measure(fn, args.repeat, before)
        timings.append((name, times))
        p50, p95 = percentiles(times)
        print(f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms", file=sys.stderr, flush=True)

    reopen = Reopener(svc, now)

    def warm_up() -> object:
        assert warm is not None
        return warm(db, now, tz)

    def reopen_and_warm() -> None:
        reopen()
        warm_up()

    def deploy_and_warm() -> None:
        forget_weeks()
        warm_up()

    case("baseline: SELECT COUNT(*) FROM tickets", count_all)
    case(
        "52 weeks, full recomputation (no rollups)",
        lambda: recomputed_report(db, weeks52, now, Filters(), tz),
    )
    case("weekly figures, 52 weeks, cold (no stored week)", report(weeks52), forget_weeks)
    case("weekly figures, 52 weeks, warm", report(weeks52))
    case(
        "weekly figures, 52 weeks, warm, after a change 3 weeks back", report(weeks52), touch_three_weeks_ago
    )
    case("weekly figures, 52 weeks, after a reopen of a 3-week-old ticket", report(weeks52), reopen)
    if warm is not None:
        case("  the same after the warm-up's pass", report(weeks52), reopen_and_warm)
    if warm is not None:
        case("warm-up (`helpdesk metrics warm`), cold: no stored week", warm_up, forget_weeks)
        case("warm-up pass after a reopen of a 3-week-old ticket", warm_up, reopen)
        case("warm-up pass, nothing changed", warm_up)
    case("weekly figures, 52 weeks, channel=phone, warm", report(weeks52, Filters(channel="phone")))
    case("weekly figures, 12 weeks, cold (no stored week)", report(weeks12), forget_weeks)
    case("weekly figures, 12 weeks, warm", report(weeks12))
    case("today's live counters", lambda: live_counters(db, now, tz, Filters()))
    case("raw: GROUP BY queue, status (all tickets)", queue_status)
    case("raw: the three counts over ix_tickets_open_counts (the old way)", counted_queue_list)
    case("console queue counts: queue_counts(), compacted", console_queue_list)
    if COMPACT_AT:
        case(
            f"  the same summing {COMPACT_AT:,} rows (the most a read sums)",
            console_queue_list,
            pending_count_rows(COMPACT_AT),
        )
        case(
            f"  the same summing {COMPACT_AT + 2:,} rows: the read compacts them",
            console_queue_list,
            pending_count_rows(COMPACT_AT + 2),
        )
    with logged_in_page(args.data_dir, url) as dashboard:
        case("GET /supervisor over HTTP (12 weeks + this week), warm", dashboard)
        case("GET /supervisor over HTTP, cold (no stored week)", dashboard, forget_weeks)
        case("GET /supervisor, after a reopen of a 3-week-old ticket", dashboard, reopen)
        if warm is not None:
            case("GET /supervisor, first visit after a deploy and the warm-up", dashboard, deploy_and_warm)
    wait = -1.0
    if db.dialect == "sqlite" and warm is not None:
        forget_weeks()
        wait = lock_waits(db, warm_up)
        print(f"  longest wait for the write lock during a cold warm-up: {wait:.1f} ms", file=sys.stderr)

    print(
        f"\n{db.dialect}, {total:,} tickets, weeks {weeks52[0].label}..{weeks52[-1].label}, "
        f"{args.repeat} runs after one warm-up each; load average {os.getloadavg()[0]:.1f}\n"
    )
    table(timings, "supervisor figures", work)
    if wait >= 0:
        print(f"longest wait for SQLite's write lock during a cold warm-up: {wait:.1f} ms\n")
    if not args.skip_search:
        cases = build_cases(db, args.search_queries)
        print(file=sys.stderr)
        table(search_rows(svc, cases), f"ticket search ({args.search_queries} queries of each kind)")
    db.dispose()


def table(
    rows: list[tuple[str, list[float]]], title: str, work: dict[str, tuple[int, int]] | None = None
) -> None:
    """p50 / p95 / max, the ratio to the first row, and (`work`) the statements and SQLite VM
    instructions (millions) of one run."""
    extra = f" {'stmts':>6} | {'M VM':>9} |" if work else ""
    print(f"| {title:<60} | {'p50 ms':>8} | {'p95 ms':>8} | {'max ms':>8} | {'x first':>7} |{extra}")
    rule = " ------ | --------- |" if work else ""
    print(f"| {'-' * 60} | {'-' * 8} | {'-' * 8} | {'-' * 8} | {'-' * 7} |{rule}")
    base = None
    for name, times in rows:
        p50, p95 = percentiles(times)
        base = base or p50 or 1.0
        counts = ""
        if work:
            statements, steps = work[name]
            counts = f" {statements:>6} | {steps * VM_STEP / 1e6:>9,.1f} |"
        print(
            f"| {name:<60} | {p50:>8.1f} | {p95:>8.1f} | {max(times):>8.1f} | {p50 / base:>7.1f} |{counts}",
            flush=True,
        )
    print()


if __name__ == "__main__":
    main()
