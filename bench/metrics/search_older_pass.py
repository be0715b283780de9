"""Cost of PostgreSQL word search's older-matches pass (ticket_search.FILL_TICKETS), read only.

Two-word queries whose words are each common in the newest tickets but never meet there: the
recent pass finds nothing, so the GIN index is asked for older rows (under OLDER_TIMEOUT_MS).
Timed with the pass (FILL_TICKETS as shipped) and without it (FILL_TICKETS=0, the recent-only
rule before). Usage: search_older_pass.py --database-url postgresql+psycopg://.../helpdesk_big
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

import helpdesk.ticket_search as ts

QUERIES = (
    "zahtev vozacka", "zahtev istekla", "zahtev dozvola", "zahtev licnu", "zahtev portal",
    "hvala vozacka", "problem istekla", "postovani portal", "resen dozvola", "pozdrav licnu",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    shipped = ts.FILL_TICKETS
    with Session(create_engine(args.database_url)) as s:
        s.execute(text("SET TRANSACTION READ ONLY"))
        for fill in (0, shipped):
            ts.FILL_TICKETS = fill
            times: list[float] = []
            cut = found = 0
            for _ in range(args.repeat):
                for q in QUERIES:
                    start = time.perf_counter()
                    ids = ts.search_ticket_ids(s, q, limit=500)
                    times.append((time.perf_counter() - start) * 1000)
                    cut += bool(s.info.get(ts.SEARCH_INCOMPLETE))
                    found += bool(ids)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            print(
                f"FILL_TICKETS={fill}: n={len(times)} p50 {statistics.median(times):.0f} ms, "
                f"p95 {p95:.0f} ms, max {times[-1]:.0f} ms, timed out {cut}, with results {found}"
            )
        s.rollback()


if __name__ == "__main__":
    main()
