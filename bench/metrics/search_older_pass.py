"""Cost of PostgreSQL word search's older-matches pass (ticket_search.FILL_TICKETS), read only.

Two-word queries whose words are each common in the newest tickets but never meet there: the
recent pass finds nothing, so the GIN index is asked for older rows (under OLDER_TIMEOUT_MS).
Timed without the pass (FILL_TICKETS=0, the recent-only rule before it), with the pass asking the
GIN index for the query's prefixes (MAX_EXPANSION=0, as before migration 0031) at work_mem 4MB
(the server's default, as before) and 64MB (OLDER_WORK_MEM), and as shipped (the whole words each
prefix stands for, from ticket_search_words), alternating by round.
Usage: search_older_pass.py --database-url postgresql+psycopg://.../helpdesk_big
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
    variants: dict[str, dict[str, object]] = {
        "recent only (FILL_TICKETS=0)": {"FILL_TICKETS": 0},
        "older pass, prefixes, work_mem 4MB (as before)": {"MAX_EXPANSION": 0, "OLDER_WORK_MEM": "4MB"},
        "older pass, prefixes, work_mem 64MB": {"MAX_EXPANSION": 0},
        "older pass, as shipped (whole words)": {},
    }
    shipped = {name: getattr(ts, name) for name in ("FILL_TICKETS", "MAX_EXPANSION", "OLDER_WORK_MEM")}
    times: dict[str, list[float]] = {name: [] for name in variants}
    cut = dict.fromkeys(variants, 0)
    found = dict.fromkeys(variants, 0)
    with Session(create_engine(args.database_url)) as s:
        s.execute(text("SET TRANSACTION READ ONLY"))
        for _ in range(args.repeat):
            for name, settings in variants.items():
                for key, value in {**shipped, **settings}.items():
                    setattr(ts, key, value)
                for q in QUERIES:
                    start = time.perf_counter()
                    ids = ts.search_ticket_ids(s, q, limit=500)
                    times[name].append((time.perf_counter() - start) * 1000)
                    cut[name] += bool(s.info.get(ts.SEARCH_INCOMPLETE))
                    found[name] += bool(ids)
        for name, taken in times.items():
            taken.sort()
            p95 = taken[max(0, int(len(taken) * 0.95) - 1)]
            print(
                f"{name}: n={len(taken)} p50 {statistics.median(taken):.1f} ms, p95 {p95:.1f} ms, "
                f"max {taken[-1]:.1f} ms, timed out {cut[name]}, with results {found[name]}"
            )
        s.rollback()


if __name__ == "__main__":
    main()
