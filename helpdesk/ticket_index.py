"""Writing the ticket search index (the reading side is ``helpdesk.ticket_search``).

One row per ticket subject and one per message, keyed ``ticket_id * 2**20 + seq`` (0 for the
subject). Rows follow the ORM: an ``after_flush`` hook writes them in the same transaction as the
ticket or message. The lean inbound path writes through ``write_rows``; bulk inserts through Core
(the demo-data generator) call ``index_bulk`` or ``sync_index``, which indexes whatever is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session, attributes

from helpdesk.db import run_many
from helpdesk.models import Message, Ticket
from helpdesk.ticket_search import (
    FTS_TABLE,
    KEY_FACTOR,
    PG_TABLE,
    index_available,
    search_document,
    subject_document,
)

__all__ = ["Row", "index_bulk", "index_table", "rebuild_index", "row_key", "sync_index", "write_rows"]


def index_table(conn: Connection) -> tuple[str, str]:
    """The index table of this database and the column that holds a row's key."""
    return (PG_TABLE, "key") if conn.dialect.name == "postgresql" else (FTS_TABLE, "rowid")


Row = tuple[int, int, str]  # key, ticket_id, normalized text


def row_key(ticket_id: int, seq: int = 0) -> int:
    """The index key of a ticket's subject (seq 0) or of its message number seq."""
    return ticket_id * KEY_FACTOR + min(abs(seq), KEY_FACTOR - 1)


# One statement per dialect, built once (building a text() per call cost more than running it on
# the inbound path, issue 14), and the only place the index rows are written one by one: the
# flush hook below and the lean inbound path (helpdesk.tickets.inbound_rows) both call
# write_rows. FTS5 takes INSERT OR REPLACE on its rowid (it deletes the old row's terms first);
# PostgreSQL an upsert on the key.
_UPSERT_SQLITE = text(
    f"INSERT OR REPLACE INTO {FTS_TABLE} (rowid, ticket_id, doc) VALUES (:k, :t, :d)"  # noqa: S608
)
_UPSERT_POSTGRESQL = text(
    f"INSERT INTO {PG_TABLE} (key, ticket_id, doc) "  # noqa: S608 - constant name
    "VALUES (:k, :t, to_tsvector('simple', :d)) ON CONFLICT (key) DO UPDATE "
    "SET ticket_id = excluded.ticket_id, doc = excluded.doc"
)


def write_rows(conn: Connection, rows: Sequence[Row]) -> None:
    """Insert or replace index rows (key, ticket_id, normalized text) in one executemany; the
    caller checks ``index_available`` and owns the transaction."""
    if not rows:
        return
    statement = _UPSERT_POSTGRESQL if conn.dialect.name == "postgresql" else _UPSERT_SQLITE
    run_many(conn, statement, [{"k": k, "t": t, "d": d} for k, t, d in rows])


def _delete(conn: Connection, keys: Iterable[int]) -> None:
    params = [{"k": k} for k in keys]
    if not params:
        return
    table, col = index_table(conn)
    conn.execute(text(f"DELETE FROM {table} WHERE {col} = :k"), params)  # noqa: S608


def _before(obj: Any, name: str) -> Any:
    """The value an attribute had when loaded (before this flush's change)."""
    history = attributes.get_history(obj, name)
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, name)


def _changed(obj: Any, name: str) -> bool:
    return bool(attributes.get_history(obj, name).has_changes())


@event.listens_for(Session, "after_flush")
def _index_flushed(session: Session, flush_context: Any) -> None:
    rows: list[Row] = []
    gone: list[int] = []
    moved_from: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Ticket):
            rows.append((row_key(obj.id), obj.id, subject_document(obj.reference, obj.subject)))
        elif isinstance(obj, Message):
            rows.append((row_key(obj.ticket_id, obj.seq), obj.ticket_id, search_document(obj.text)))
    for obj in session.dirty:
        if isinstance(obj, Ticket) and _changed(obj, "subject"):
            rows.append((row_key(obj.id), obj.id, subject_document(obj.reference, obj.subject)))
        elif isinstance(obj, Message) and any(_changed(obj, a) for a in ("text", "ticket_id", "seq")):
            old_ticket = _before(obj, "ticket_id")
            if old_ticket != obj.ticket_id:
                moved_from.add(old_ticket)  # a merge: the old ticket's rows are redone below
            elif _changed(obj, "seq"):
                gone.append(row_key(old_ticket, _before(obj, "seq")))
            rows.append((row_key(obj.ticket_id, obj.seq), obj.ticket_id, search_document(obj.text)))
    for obj in session.deleted:
        if isinstance(obj, Ticket):
            gone.append(row_key(obj.id))
        elif isinstance(obj, Message):
            gone.append(row_key(_before(obj, "ticket_id"), _before(obj, "seq")))
    if not rows and not gone and not moved_from:
        return
    conn = session.connection()
    if not index_available(conn):
        return
    _delete(conn, gone)
    for ticket_id in moved_from:
        rows += _reindex_messages(conn, ticket_id)
    write_rows(conn, rows)


def _reindex_messages(conn: Connection, ticket_id: int) -> list[Row]:
    """Drop a ticket's message rows (not its subject) and return rows for what it still has.

    Messages moved away in a merge are renumbered through a bulk UPDATE the ORM history
    cannot see, so their old keys are unknown: the old ticket's range is redone instead.
    """
    table, key = index_table(conn)
    conn.execute(
        text(f"DELETE FROM {table} WHERE {key} > :lo AND {key} < :hi"),  # noqa: S608
        {"lo": row_key(ticket_id), "hi": row_key(ticket_id + 1)},
    )
    left = conn.execute(text("SELECT seq, text FROM messages WHERE ticket_id = :t"), {"t": ticket_id}).all()
    return [(row_key(ticket_id, seq), ticket_id, search_document(body)) for seq, body in left]


def _missing(conn: Connection, batch: int) -> tuple[list[Row], list[Row]]:
    table, key = index_table(conn)
    tickets = conn.execute(
        text(
            f"SELECT t.id, t.reference, t.subject FROM tickets t WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {table} f WHERE f.{key} = CAST(t.id AS BIGINT) * {KEY_FACTOR}) "
            "ORDER BY t.id LIMIT :n"
        ),
        {"n": batch},
    ).all()
    messages = conn.execute(
        text(
            f"SELECT m.ticket_id, m.seq, m.text FROM messages m WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {table} f WHERE f.{key} = CAST(m.ticket_id AS BIGINT) * {KEY_FACTOR} + m.seq) "
            "ORDER BY m.id LIMIT :n"
        ),
        {"n": batch},
    ).all()
    return (
        [(row_key(tid), tid, subject_document(ref, subject)) for tid, ref, subject in tickets],
        [(row_key(tid, seq), tid, search_document(body)) for tid, seq, body in messages],
    )


def _joined(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def index_bulk(
    session: Session,
    tickets: Iterable[Mapping[str, Any]],
    messages: Iterable[Mapping[str, Any]],
) -> None:
    """Index rows a Core bulk insert just wrote (ticket dicts with id/reference/subject,
    message dicts with ticket_id/seq/text)."""
    conn = session.connection()
    if not index_available(conn):
        return
    # A bulk load repeats texts (templates, canned replies): each distinct one is normalized once.
    # Tokens never span a space, so a subject row is its reference part plus its subject part.
    docs: dict[str, str] = {}

    def doc(value: str | None) -> str:
        value = value or ""
        found = docs.get(value)
        if found is None:
            found = docs[value] = search_document(value)
        return found

    rows: list[Row] = []
    for t in tickets:
        reference = subject_document(t.get("reference"), None)
        rows.append((row_key(t["id"]), t["id"], _joined(reference, doc(t.get("subject")))))
    rows += [(row_key(m["ticket_id"], m["seq"]), m["ticket_id"], doc(m.get("text"))) for m in messages]
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        # Fresh ids: a plain insert, without write_rows' replace.
        conn.execute(
            text(f"INSERT INTO {FTS_TABLE} (rowid, ticket_id, doc) VALUES (:k, :t, :d)"),  # noqa: S608
            [{"k": k, "t": t, "d": d} for k, t, d in rows],
        )
    else:
        # One statement for the whole batch (arrays unnested server-side): a row-by-row
        # executemany made the million-ticket demo load several times slower than on SQLite.
        keys, owners, texts = (list(col) for col in zip(*rows, strict=True))
        conn.execute(
            text(
                f"INSERT INTO {PG_TABLE} (key, ticket_id, doc) "  # noqa: S608 - constant name
                "SELECT k, t, to_tsvector('simple', d) "
                "FROM unnest(CAST(:k AS bigint[]), CAST(:t AS integer[]), CAST(:d AS text[])) AS u(k, t, d) "
                "ON CONFLICT (key) DO UPDATE SET ticket_id = excluded.ticket_id, doc = excluded.doc"
            ),
            {"k": keys, "t": owners, "d": texts},
        )


def sync_index(session: Session, batch: int = 20_000, progress: Callable[[int], None] | None = None) -> int:
    """Index every ticket subject and message not yet in the index; commits per batch."""
    conn = session.connection()
    if not index_available(conn):
        return 0
    total = 0
    while True:
        tickets, messages = _missing(session.connection(), batch)
        if not tickets and not messages:
            return total
        write_rows(session.connection(), tickets + messages)
        session.commit()
        total += len(tickets) + len(messages)
        if progress is not None:
            progress(len(tickets) + len(messages))


def rebuild_index(session: Session, progress: Callable[[int], None] | None = None) -> int:
    conn = session.connection()
    if not index_available(conn):
        return 0
    table, _ = index_table(conn)
    conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608
    session.commit()
    return sync_index(session, progress=progress)
