"""PostgreSQL word search: how many whole words a short prefix stands for, and what each limit
(ticket_search.MAX_EXPANSION) costs and finds, read only.

First how many words of ticket_search_words the prefixes of 3, 4 and 5 letters stand for (every
prefix there is). Then queries whose older-matches pass runs (two words that seldom meet in the
newest tickets, one or both cut short as agents type them, and short prefixes alone), timed with
each limit in turn, alternating by round: 0 (every prefix left to the index as a prefix, as
before migration 0031) and the limits given. For each: p50 / p95 / max ms, how many searches
timed out (the console then says older tickets may be missing) and whether every limit found the
same tickets as the prefix itself (it must: a prefix of more words than the limit is left to the
index as a prefix, never cut).
Usage: search_expansion.py --database-url postgresql+psycopg://.../helpdesk_big_copy [--limits 16,64,256,4096]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

import helpdesk.ticket_search as ts

QUERIES = (
    "zah vozacka", "zaht vozacka", "zahtev voz", "zah voz", "hva vozacka", "pro istekla",
    "pos portal", "postovani por", "res dozvola", "poz licnu", "pre", "pri", "sta", "kar",
)  # fmt: skip


def prefix_counts(s: Session) -> None:
    for n in (3, 4, 5):
        counts = [
            int(c)
            for (c,) in s.execute(
                text("SELECT count(DISTINCT word) FROM ticket_search_words GROUP BY left(word, :n)"), {"n": n}
            ).all()
        ]
        counts.sort()
        q = statistics.quantiles(counts, n=100, method="inclusive") if len(counts) > 1 else counts * 99
        over = {limit: sum(c > limit for c in counts) for limit in (16, 64, 256)}
        print(
            f"prefixes of {n} letters: {len(counts)}, words each p50 {q[49]:.0f}, p90 {q[89]:.0f}, "
            f"p99 {q[98]:.0f}, max {counts[-1]}; more than 16/64/256 words: {over[16]}/{over[64]}/{over[256]}"
        )


def add_words(s: Session, n: int) -> None:
    """Made-up words, each a stored word's first 3-5 letters and 2-7 random ones: a vocabulary
    shaped like the store's, n words larger (as names, case forms and typos make a real one)."""
    rng = random.Random(14)
    stems = list(s.scalars(text("SELECT DISTINCT word FROM ticket_search_words WHERE word ~ '^[a-z]{4,}$'")))
    letters = "abcdefghijklmnoprstuvz"
    made = {
        rng.choice(stems)[: rng.randint(3, 5)] + "".join(rng.choices(letters, k=rng.randint(2, 7)))
        for _ in range(n)
    }
    s.execute(
        text("INSERT INTO ticket_search_words (word) SELECT unnest(CAST(:w AS text[]))"), {"w": sorted(made)}
    )
    print(f"added {len(made)} made-up words (rolled back at the end)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limits", default="16,64,256,4096")
    parser.add_argument(
        "--extra-words",
        type=int,
        default=0,
        help="add this many made-up words (in no row, like a real store's many rare words) "
        "to ticket_search_words first, inside the run's transaction (rolled back at the end)",
    )
    args = parser.parse_args()
    limits = [0, *(int(x) for x in args.limits.split(","))]
    shipped = ts.MAX_EXPANSION
    times: dict[int, list[float]] = {limit: [] for limit in limits}
    cut = dict.fromkeys(limits, 0)
    differ = dict.fromkeys(limits, 0)
    per_query: dict[tuple[int, str], list[float]] = {}
    with Session(create_engine(args.database_url)) as s:
        if args.extra_words:
            add_words(s, args.extra_words)
        else:
            s.execute(text("SET TRANSACTION READ ONLY"))
        words = s.execute(text("SELECT count(DISTINCT word), count(*) FROM ticket_search_words")).one()
        print(f"ticket_search_words: {words[0]} distinct words ({words[1]} rows)")
        prefix_counts(s)
        for q in QUERIES:
            stands = []
            for w in ts._query_words(q):
                n = s.execute(
                    text(
                        "SELECT count(DISTINCT word) FROM ticket_search_words "
                        "WHERE word >= :p AND word < :p || chr(1114111)"
                    ),
                    {"p": w},
                ).scalar_one()
                stands.append(f"{w}: {n}")
            print(f"  {q!r}: {', '.join(stands)}")
        for r in range(args.repeat):
            for limit in limits if r % 2 == 0 else reversed(limits):
                ts.MAX_EXPANSION = limit
                for q in QUERIES:
                    start = time.perf_counter()
                    ids = ts.search_ticket_ids(s, q, limit=500)
                    taken = (time.perf_counter() - start) * 1000
                    times[limit].append(taken)
                    per_query.setdefault((limit, q), []).append(taken)
                    incomplete = bool(s.info.get(ts.SEARCH_INCOMPLETE))
                    cut[limit] += incomplete
                    ts.MAX_EXPANSION = 0
                    if limit and not incomplete:
                        same = ts.search_ticket_ids(s, q, limit=500)
                        differ[limit] += not s.info.get(ts.SEARCH_INCOMPLETE) and sorted(same) != sorted(ids)
                    ts.MAX_EXPANSION = limit
        ts.MAX_EXPANSION = shipped
        for limit, taken in times.items():
            taken.sort()
            p95 = taken[max(0, int(len(taken) * 0.95) - 1)]
            label = "prefixes (0)" if limit == 0 else f"up to {limit} words"
            print(
                f"{label}: n={len(taken)} p50 {statistics.median(taken):.1f} ms, p95 {p95:.1f} ms, "
                f"max {taken[-1]:.1f} ms, timed out {cut[limit]}, "
                f"other tickets than the prefix {differ[limit]}"
            )
        print("median ms per query:", ", ".join(f"limit {x}" for x in limits))
        for q in QUERIES:
            print(f"  {q!r}: " + " / ".join(f"{statistics.median(per_query[(x, q)]):.0f}" for x in limits))
        s.rollback()


if __name__ == "__main__":
    main()
