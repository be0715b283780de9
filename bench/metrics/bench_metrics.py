"""Latency of the supervisor figures on a large store, beside a raw baseline in the same run.

    .venv/bin/python bench/metrics/bench_metrics.py --data-dir /tmp/hd-bench --tickets 1000000
    .venv/bin/python bench/metrics/bench_metrics.py --data-dir /tmp/hd-bench-pg --tickets 1000000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1/helpdesk_metrics_bench

The store is filled once with `helpdesk demo-data --tickets N --weeks 52` (run by this script
when the store has fewer tickets; later runs reuse it). Then, each query `--repeat` times:

* baseline: a bare `SELECT COUNT(*) FROM tickets` (a full count of the table);
* the weekly figures of the last 52 weeks (all of them: volume by channel, category, queue,
  first-response and resolution median/p90, SLA compliance, backlog, deflection, csat), once
  recomputed from the tickets alone and then through the rollups (closed weeks stored by the
  warm-up run, the current week live), unfiltered and filtered by channel, and of the
  dashboard's default 12 weeks;
* today's live counters;
* the console's queue list: the raw `GROUP BY queue, status` count and the console's own
  `queue_counts()` for a supervisor (open tickets per queue, mine, unassigned).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from helpdesk.db import Database  # noqa: E402
from helpdesk.metrics import Filters, live_counters, resolve_weeks, weekly_report  # noqa: E402
from helpdesk.metrics.report import recomputed_report  # noqa: E402
from helpdesk.migrate import upgrade  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402


def fill(args: argparse.Namespace, db: Database, have: int) -> None:
    env = dict(os.environ, HELPDESK_DATA_DIR=str(args.data_dir), HELPDESK_CHANNELS="",
               HELPDESK_TRIAGE="local")
    if args.database_url:
        env["HELPDESK_DATABASE_URL"] = args.database_url
    cmd = [str(ROOT / ".venv/bin/helpdesk"), "demo-data", "--tickets", str(args.tickets - have),
           "--weeks", "52", "--seed", str(1000 + have)]
    print("filling:", " ".join(cmd[1:]), flush=True)
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)


def dashboard_client(args: argparse.Namespace, url: str) -> Callable[[], object]:
    """The whole dashboard page through the app, logged in as the demo supervisor."""
    from helpdesk import create_app
    from helpdesk.demo import DEMO_LOGINS
    from helpdesk.settings import Settings

    settings = Settings(data_dir=args.data_dir, database_url=url, channels=(), triage="local",
                        embedded_services=False).resolved()
    client = create_app(settings).test_client()
    boss = next(d for d in DEMO_LOGINS if d.role == "supervisor")
    page = client.get("/login").get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    token = page[start : page.index('"', start)]
    client.post("/login", data={"email": boss.email, "password": boss.password,
                                "csrf_token": token})

    def get() -> object:
        response = client.get("/supervisor")
        assert response.status_code == 200, response.status_code
        return response

    return get


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm the cache: we measure queries, not the first read from disk
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-fill", action="store_true", help="measure the store as it is")
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
            conn.execute(text("VACUUM ANALYZE tickets"))
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

    def count_all() -> object:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar()

    def queue_status() -> object:
        with db.engine.connect() as conn:
            return conn.execute(
                text("SELECT queue, status, COUNT(*) FROM tickets GROUP BY queue, status")
            ).all()

    def console_queue_list() -> object:
        from helpdesk.access import Viewer
        from helpdesk.console.queries import queue_counts
        from helpdesk.services import Services
        from helpdesk.settings import Settings

        svc = Services(settings=Settings(data_dir=args.data_dir, database_url=url,
                                         secret_key="bench").resolved(), db=db)
        return queue_counts(svc, Viewer(1, "bench", "supervisor", frozenset()))

    dashboard = dashboard_client(args, url)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("baseline: SELECT COUNT(*) FROM tickets", count_all),
        ("52 weeks, full recomputation (no rollups)",
         lambda: recomputed_report(db, weeks52, now, Filters(), tz)),
        ("weekly figures, 52 weeks (rollups)", lambda: weekly_report(db, weeks52, now, Filters(), tz)),
        ("weekly figures, 52 weeks, channel=phone",
         lambda: weekly_report(db, weeks52, now, Filters(channel="phone"), tz)),
        ("weekly figures, 12 weeks (dashboard default)",
         lambda: weekly_report(db, weeks12, now, Filters(), tz)),
        ("today's live counters", lambda: live_counters(db, now, tz, Filters())),
        ("queue list: GROUP BY queue, status", queue_status),
        ("queue list: console queue_counts()", console_queue_list),
        ("GET /supervisor (12 weeks, whole page)", dashboard),
    ]
    print(f"\n{db.dialect}, {total:,} tickets, weeks {weeks52[0].label}..{weeks52[-1].label}, "
          f"median of {args.repeat} runs after one warm-up\n")
    print(f"| {'query':<46} | {'median ms':>10} | {'min ms':>8} | {'x baseline':>10} |")
    print(f"| {'-' * 46} | {'-' * 10} | {'-' * 8} | {'-' * 10} |")
    base = None
    for name, fn in cases:
        median, best = measure(fn, args.repeat)
        base = base or median
        print(f"| {name:<46} | {median:>10.1f} | {best:>8.1f} | {median / base:>10.1f} |")
    db.dispose()


if __name__ == "__main__":
    main()
