"""Cost of PostgreSQL's search-words triggers on the write path: 0031's against 0033's (the word
rows locked against a concurrent prune), alternating by round, on a scratch database.

Each round writes --rows index rows (a demo inquiry, a citizen's name, every tenth row a word
never seen), two per transaction as a new ticket's subject and message, each transaction rolled
back, so every round starts from the same table. Load-independent figures from the server: the
add trigger's own time (pg_stat_xact_user_functions) and this transaction's WAL records and bytes
(pg_walinspect, filtered on its xid). "two at once": two transactions writing alternately, both
open (the lock on a common word is then shared: a MultiXact each time).
Usage: search_words_trigger.py [--server-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from helpdesk.db import Database  # noqa: E402
from helpdesk.demo_texts import FIRST_NAMES, LAST_NAMES, SR_INQUIRIES  # noqa: E402
from helpdesk.migrate import upgrade  # noqa: E402
from helpdesk.models import Contact, Ticket  # noqa: E402
from helpdesk.ticket_index import row_key, write_rows  # noqa: E402
from helpdesk.ticket_search import search_document  # noqa: E402

VERSIONS = ROOT / "migrations" / "versions"


def functions(filename: str, add: str, prune: str) -> list[str]:
    spec = importlib.util.spec_from_file_location(filename, VERSIONS / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [
        getattr(module, n).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) for n in (add, prune)
    ]


VARIANTS = {
    "0031 (before)": functions("0031_pgwords_search_words.py", "_ADD", "_PRUNE"),
    "0033 (after)": functions("0033_pgwords_prune_lock.py", "ADD", "PRUNE"),
}


def texts(rng: random.Random, n: int, fresh_every: int = 10) -> list[str]:
    out = []
    for i in range(n):
        _, subject, body = rng.choice(SR_INQUIRIES)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        fresh = f" rec{uuid.uuid4().hex[:8]}" if i % fresh_every == 0 else ""
        out.append(search_document(f"{subject} {body} {name}{fresh}"))
    return out


def two_tickets(conn: Connection) -> list[int]:
    return [int(t) for t in conn.execute(text("SELECT id FROM tickets ORDER BY id")).scalars()]


def flushed(conn: Connection, lsn: str) -> None:
    """Wait for the WAL writer to flush up to lsn (pg_walinspect reads only flushed WAL)."""
    while not conn.execute(
        text("SELECT pg_current_wal_flush_lsn() >= CAST(:l AS pg_lsn)"), {"l": lsn}
    ).scalar():
        time.sleep(0.05)
    conn.rollback()


def round_of(
    writers: list[Connection], docs: list[str], tickets: list[int], start_seq: int
) -> dict[str, float]:
    """One transaction per ticket (its subject row and one message row in one statement, as the
    inbound path writes them), `len(writers)` of them open at once, all rolled back."""
    lsn = writers[0].execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
    writers[0].rollback()
    xids: list[int] = []
    add_ms = wall = 0.0
    pairs = [docs[i : i + 2] for i in range(0, len(docs) - 1, 2)]
    for at in range(0, len(pairs), len(writers)):
        group = list(zip(writers, pairs[at : at + len(writers)], strict=False))
        for conn, _ in group:
            conn.execute(text("SET LOCAL track_functions = 'pl'"))
            xids.append(int(conn.execute(text("SELECT txid_current()")).scalar_one()) % (1 << 32))
            add_ms -= float(conn.execute(_ADD_TIME).scalar_one())  # the counts not yet flushed
        for k, (conn, pair) in enumerate(group):
            seq, ticket = start_seq + 2 * (at + k), tickets[k]
            started = time.perf_counter()
            write_rows(conn, [(row_key(ticket, seq + j), ticket, d) for j, d in enumerate(pair)])
            wall += time.perf_counter() - started
        for conn, _ in group:
            add_ms += float(conn.execute(_ADD_TIME).scalar_one())
            conn.rollback()
    end = writers[0].execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
    flushed(writers[0], end)
    wal = writers[0].execute(_WAL, {"x": xids, "a": lsn, "b": end}).one()
    writers[0].rollback()
    n = 2 * len(pairs)
    return {
        "add trigger ms/row": add_ms / n,
        "write ms/row (wall)": wall * 1000 / n,
        "WAL records/row": wal[0] / n,
        "WAL bytes/row": wal[1] / n,
        "MultiXact records/row": wal[2] / n,
    }


_ADD_TIME = text(
    "SELECT coalesce(sum(self_time), 0) FROM pg_stat_xact_user_functions "
    "WHERE funcname = 'ticket_search_words_add'"
)
_WAL = text(  # this round's transactions only; MultiXact records: all of them (nobody else makes them)
    "SELECT count(*) FILTER (WHERE xid = ANY(:x)), "
    "coalesce(sum(record_length) FILTER (WHERE xid = ANY(:x)), 0), "
    "count(*) FILTER (WHERE resource_manager = 'MultiXact') "
    "FROM pg_get_wal_records_info(CAST(:a AS pg_lsn), CAST(:b AS pg_lsn))"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rows", type=int, default=1000, help="rows written per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed-rows", type=int, default=5000, help="rows written first (the words there)")
    args = parser.parse_args()
    name = f"hd_wordstrigger_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server_url).set(database=name).render_as_string(hide_password=False)
    try:
        run(url, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, args: Any) -> None:
    db = Database(url)
    upgrade(db)
    rng = random.Random(14)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION pg_walinspect"))
    with Session(engine) as s, s.begin():  # tickets for the rows to belong to (the foreign key)
        contact = Contact(name="Bench")
        s.add(contact)
        s.flush()
        for n in (1, 2):  # one per writer: their foreign-key locks on the ticket do not meet
            s.add(
                Ticket(
                    reference=f"HD-2026-{n}",
                    subject="B",
                    channel="web",
                    contact_id=contact.id,
                    reply_token=f"{n}",
                )
            )
    with engine.begin() as conn:
        tickets = two_tickets(conn)
        ticket = tickets[0]
        write_rows(
            conn, [(row_key(ticket, i + 1), ticket, d) for i, d in enumerate(texts(rng, args.seed_rows))]
        )
        conn.execute(text("ANALYZE"))
    words = engine.connect().execute(text("SELECT count(*) FROM ticket_search_words")).scalar_one()
    print(f"seeded {args.seed_rows} rows, {words} words; {args.rows} rows a round, {args.rounds} rounds")
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    conns = [engine.connect(), engine.connect()]
    seq = args.seed_rows + 1
    for r in range(args.rounds):
        order = list(VARIANTS.items()) if r % 2 == 0 else list(reversed(VARIANTS.items()))
        docs = texts(rng, args.rows)
        for label, sqls in order:
            with engine.begin() as conn:
                for sql in sqls:
                    conn.execute(text(sql))
            for writers in (1, 2):
                results.setdefault((label, writers), []).append(round_of(conns[:writers], docs, tickets, seq))
        seq += args.rows
    for (label, writers), rounds in results.items():
        figures = ", ".join(f"{key} {statistics.median(r[key] for r in rounds):.3f}" for key in rounds[0])
        print(f"{label}, {'one writer' if writers == 1 else 'two at once'}: {figures}")
    for conn in conns:
        conn.close()
    engine.dispose()
    db.dispose()


if __name__ == "__main__":
    main()
