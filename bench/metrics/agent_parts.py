"""The per-agent parts of closed weeks (what `/supervisor` recomputes for a week a change touched,
``helpdesk.metrics.agent_rollup._week_parts``), timed directly, with the plan of one week's
first-response and resolution reads (PostgreSQL: index-only or not, and the heap fetches).
Beside it, a bare `SELECT COUNT(*) FROM tickets` in the same run.

    .venv/bin/python bench/metrics/agent_parts.py --database-url postgresql+psycopg://...

It migrates nothing: run it on a store at 0033 (before `assignee_id` was in the report indexes)
and again after `helpdesk db upgrade`, the same code both times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select, text  # noqa: E402

from helpdesk.db import Database  # noqa: E402
from helpdesk.metrics.agent_rollup import _week_parts  # noqa: E402
from helpdesk.metrics.weekly import Filters  # noqa: E402
from helpdesk.metrics.weeks import last_weeks, previous, week_of  # noqa: E402
from helpdesk.models import Ticket  # noqa: E402

TZ = ZoneInfo("Europe/Belgrade")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--weeks", type=int, default=4, help="closed weeks, newest first")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    db = Database(args.database_url)
    with db.session() as s:
        newest = s.scalar(select(func.max(Ticket.created_at)))
        version = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert newest is not None, "an empty store"
    current = week_of(newest.astimezone(TZ).date(), TZ)
    weeks = last_weeks(previous(current, TZ).start, args.weeks, TZ)[::-1]

    def count_all() -> None:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar()

    def parts() -> None:
        with db.session() as s:
            for week in weeks:
                _week_parts(s, db.dialect, week, Filters())

    rows = []
    for name, fn in (("baseline: SELECT COUNT(*) FROM tickets", count_all),
                     (f"per-agent parts of {len(weeks)} closed weeks", parts)):
        fn()  # one warm-up: we measure queries, not the first disk read
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        rows.append((name, statistics.median(times), max(times)))
    print(f"\n{db.dialect} at {version}, weeks {weeks[-1].label}..{weeks[0].label}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"| {'measure':<45} | {'p50 ms':>8} | {'max ms':>8} |\n| {'-' * 45} | {'-' * 8} | {'-' * 8} |")
    for name, p50, top in rows:
        print(f"| {name:<45} | {p50:>8.1f} | {top:>8.1f} |")
    if db.dialect == "postgresql":
        week = weeks[0]
        for column in ("first_response_at", "resolved_at"):
            sql = (
                f"EXPLAIN (ANALYZE, BUFFERS) SELECT assignee_id, {column} - created_at FROM tickets "
                f"WHERE merged_into_id IS NULL AND {column} >= :a AND {column} < :b "
                "AND assignee_id IS NOT NULL"
            )
            with db.engine.connect() as conn:
                plan = [r[0] for r in conn.execute(text(sql), {"a": week.start, "b": week.end})]
            print(f"\n{column}, week {week.label}:")
            print("\n".join("    " + line for line in plan))
    db.dispose()


if __name__ == "__main__":
    main()
