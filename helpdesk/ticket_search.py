"""Ticket search for agents with the database's own full-text search.

SQLite: an FTS5 table ``ticket_fts``; PostgreSQL: ``ticket_search_docs`` with a ``tsvector``
column and a GIN index (migrations ``0008_ticket_fts``, ``0011_ticket_fts_keys``). One row per
ticket subject and one per message, keyed ``ticket_id * 2**20 + seq`` (0 for the subject): the
ticket is read off the key, so SQLite never looks into the FTS content table to find it
(measured: ten times faster on a common word at a million tickets). The text is normalized by
``triage.text`` (Cyrillic -> Latin, lower case, folded diacritics) before it is stored, and
so is the query, so "порез", "porez" and "pórez" meet. Every query word is cut to its
Snowball stem and matched as a prefix, so Serbian case endings meet too ("poreza" finds
"porezu").

Rows follow the ORM: an ``after_flush`` hook writes them in the same transaction as the
ticket or message. Bulk inserts through Core (the demo-data generator) call
``sync_index``, which indexes whatever is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Integer, Select, event, false, or_, select, text
from sqlalchemy.orm import Session, attributes

from helpdesk.models import Message, Ticket
from knowledge_base.analysis import serbian_stem
from triage.text import tokenize

__all__ = [
    "apply_text_search",
    "search_ticket_ids",
    "search_document",
    "subject_document",
    "match_expression",
    "tsquery_expression",
    "index_available",
    "sync_index",
    "index_bulk",
    "row_key",
    "write_rows",
    "rebuild_index",
]

FTS_TABLE = "ticket_fts"  # SQLite FTS5
PG_TABLE = "ticket_search_docs"  # PostgreSQL
MAX_QUERY_WORDS = 8
# Ranked search scores the newest this-many matching rows (subjects and messages), not every
# match: bounded cost whatever the store's size, and agents look for recent tickets first.
RANK_WINDOW = 2000
MIN_PREFIX = 3
_REFERENCE = re.compile(r"^[A-Za-z]{2,5}-\d{4}-\d{1,9}$")


def search_document(value: str | None) -> str:
    """The stored form of a text: normalized tokens separated by spaces."""
    return " ".join(tokenize(value or ""))


def _prefix(word: str) -> str:
    """The part of a normalized word every case form shares: its stem, if a prefix."""
    if len(word) <= MIN_PREFIX or word.isdigit():
        return word
    stem = serbian_stem(word)
    common = 0
    for a, b in zip(word, stem, strict=False):
        if a != b:
            break
        common += 1
    return word[: max(common, MIN_PREFIX)]


def subject_document(reference: str | None, subject: str | None) -> str:
    """The subject row also holds the reference and its bare number ("HD-2026-000123" -> 123),
    so an agent can type either."""
    number = (reference or "").rsplit("-", 1)[-1]
    bare = str(int(number)) if number.isdigit() else ""
    return search_document(f"{reference or ''} {bare} {subject or ''}")


def _query_words(q: str) -> list[str]:
    return [_prefix(w) for w in tokenize(q)[:MAX_QUERY_WORDS]]


def match_expression(q: str) -> str | None:
    """An FTS5 MATCH string: every word a quoted prefix, all required."""
    words = _query_words(q)
    return " ".join(f'"{w}"*' for w in words) if words else None


def tsquery_expression(q: str) -> str | None:
    """A to_tsquery('simple', ...) string: every word a prefix, all required."""
    words = _query_words(q)
    return " & ".join(f"{w}:*" for w in words) if words else None


# -- is the index there? ----------------------------------------------------------------

_present: set[str] = set()


def index_available(conn: Connection) -> bool:
    """True when the migration made the table (a create_all() database has none)."""
    key = f"{conn.engine.url!r}"
    if key in _present:
        return True
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type='table' AND name=:n"), {"n": FTS_TABLE}
        ).first()
    elif conn.dialect.name == "postgresql":
        found = conn.execute(text("SELECT to_regclass(:n)"), {"n": PG_TABLE}).scalar()
    else:
        found = None
    if found:
        _present.add(key)
    return bool(found)


# -- writing ------------------------------------------------------------------------------

Row = tuple[int, int, str]  # key, ticket_id, normalized text
KEY_FACTOR = 1 << 20  # messages per ticket stay far below a million


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
    conn.execute(statement, [{"k": k, "t": t, "d": d} for k, t, d in rows])


def _delete(conn: Connection, keys: Iterable[int]) -> None:
    params = [{"k": k} for k in keys]
    if not params:
        return
    table, col = (PG_TABLE, "key") if conn.dialect.name == "postgresql" else (FTS_TABLE, "rowid")
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
    table, key = (PG_TABLE, "key") if conn.dialect.name == "postgresql" else (FTS_TABLE, "rowid")
    conn.execute(
        text(f"DELETE FROM {table} WHERE {key} > :lo AND {key} < :hi"),  # noqa: S608
        {"lo": row_key(ticket_id), "hi": row_key(ticket_id + 1)},
    )
    left = conn.execute(text("SELECT seq, text FROM messages WHERE ticket_id = :t"), {"t": ticket_id}).all()
    return [(row_key(ticket_id, seq), ticket_id, search_document(body)) for seq, body in left]


def _missing(conn: Connection, batch: int) -> tuple[list[Row], list[Row]]:
    table, key = (PG_TABLE, "key") if conn.dialect.name == "postgresql" else (FTS_TABLE, "rowid")
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
    table = PG_TABLE if conn.dialect.name == "postgresql" else FTS_TABLE
    conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608
    session.commit()
    return sync_index(session, progress=progress)


# -- searching ----------------------------------------------------------------------------


def _like(stmt: Select[Any], q: str) -> Select[Any]:
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return stmt.where(
        or_(
            Ticket.reference.ilike(pattern, escape="\\"),
            Ticket.subject.ilike(pattern, escape="\\"),
        )
    )


def _matching_ids(conn: Connection, q: str) -> Any | None:
    """A SELECT of ticket ids whose subject or one message holds every query word."""
    if conn.dialect.name == "postgresql":
        tsq = tsquery_expression(q)
        if tsq is None:
            return None
        return (
            text(f"SELECT ticket_id FROM {PG_TABLE} WHERE doc @@ to_tsquery('simple', :tsq)")  # noqa: S608
            .bindparams(tsq=tsq)
            .columns(ticket_id=Integer)
        )
    match = match_expression(q)
    if match is None:
        return None
    return (
        text(
            f"SELECT rowid / {KEY_FACTOR} AS ticket_id FROM {FTS_TABLE} "  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH :m"
        )
        .bindparams(m=match)
        .columns(ticket_id=Integer)
    )


def apply_text_search(stmt: Select[Any], session: Session, q: str) -> Select[Any]:
    """Narrow a ticket SELECT to tickets matching q (a reference, or words in any message)."""
    q = q.strip()[:500]
    if not q:
        return stmt
    conn = session.connection()
    if not index_available(conn):
        return _like(stmt, q)
    ids = _matching_ids(conn, q)
    by_reference = Ticket.reference == q.upper() if _REFERENCE.match(q) else None
    if ids is None:
        return stmt.where(by_reference) if by_reference is not None else stmt.where(false())
    in_index = Ticket.id.in_(ids)
    return stmt.where(or_(by_reference, in_index) if by_reference is not None else in_index)


def search_ticket_ids(session: Session, q: str, limit: int = 50) -> list[int]:
    """Ticket ids matching q, best match first (bm25 / ts_rank) among the newest matches."""
    q = q.strip()[:500]
    conn = session.connection()
    if not q or not index_available(conn):
        return [] if not q else list(session.scalars(_like(select(Ticket.id), q).limit(limit)))
    found: list[int] = []
    if _REFERENCE.match(q):
        # A reference names one ticket: its words ("hd", "2026") are in every subject row, so a
        # full-text search for them would walk the whole index for nothing.
        return list(session.scalars(select(Ticket.id).where(Ticket.reference == q.upper())))
    if conn.dialect.name == "postgresql":
        tsq = tsquery_expression(q)
        if tsq is not None:
            found += conn.execute(
                text(
                    "SELECT ticket_id FROM ("  # noqa: S608 - constant table name
                    f"SELECT ticket_id, doc FROM {PG_TABLE} WHERE doc @@ to_tsquery('simple', :q) "
                    "ORDER BY key DESC LIMIT :w) AS newest "
                    "GROUP BY ticket_id "
                    "ORDER BY max(ts_rank(doc, to_tsquery('simple', :q))) DESC, ticket_id DESC "
                    "LIMIT :n"
                ),
                {"q": tsq, "n": limit, "w": RANK_WINDOW},
            ).scalars()
    else:
        match = match_expression(q)
        if match is not None:
            # Best rows first (bm25 over subject and message rows), several per ticket at most,
            # among the newest RANK_WINDOW matching rows: FTS5 walks its doclists in rowid order
            # and stops there, so a common word costs the same at a million tickets as at ten
            # thousand (ranking every match cost 93 ms p50 / 275 ms p95 at a million).
            keys = conn.execute(
                text(
                    "SELECT rowid FROM ("  # noqa: S608 - constant table name
                    f"SELECT rowid, rank FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :m "
                    "ORDER BY rowid DESC LIMIT :w) ORDER BY rank LIMIT :n"
                ),
                {"m": match, "n": limit * 5, "w": RANK_WINDOW},
            ).scalars()
            found += [int(k) // KEY_FACTOR for k in keys]
    return list(dict.fromkeys(found))[:limit]
