"""Contact names for the console's search box: a full-text index of normalized names.

SQLite: an FTS5 table ``contact_name_fts`` (rowid = contact id; migration
``0028_namesearch_contact_names``). PostgreSQL: a dictionary of distinct names
``contact_name_dict`` (normalized text, ``tsvector``, GIN) and ``contact_name_docs`` (contact id
-> dictionary entry, btree on (entry, contact id); migration ``0029_namesearch_name_dict``). A
name is stored normalized by ``triage.text`` (the same ``search_document`` as ticket texts:
Cyrillic -> Latin, lower case, folded diacritics) and a query is cut into the same prefixes as a
ticket search, so "Петар Јовић", "Petar Jović" and
"petar jovic" meet, as do Serbian case endings ("Jovića").

Why a dictionary on PostgreSQL: a GIN over every contact answers a common full name with
thousands of row pointers scattered over the heap, each a page to read (~3,000 pages a search
at a million contacts). Over distinct names the GIN is small and matches a few entries, and
each entry's contacts lie together in the btree, read newest first from the index alone.

Rows follow the ORM (an ``after_flush`` hook, in the same transaction as the contact); the Core
paths that write a name (the lean inbound path, the demo generator, erasure) call
``write_names`` / ``drop_names`` / ``index_names_bulk`` themselves. A dictionary entry no
contact uses any more is deleted with the last one (an erased name leaves nothing behind).

A search reads the newest ``NAME_WINDOW`` matching contacts (FTS5 walks its doclist backwards
by rowid and stops), then the tickets of those contacts (or of the contact each was merged
into, found in a partial index of merged contacts only). Erasure deletes a contact's row in the
same transaction as its name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session, attributes

from helpdesk.db import run_many, table_present
from helpdesk.models import Contact
from helpdesk.ticket_search import match_expression, search_document, tsquery_expression

__all__ = [
    "NAME_DICT",
    "NAME_FTS",
    "NAME_PG",
    "NAME_WINDOW",
    "build_name_index",
    "drop_names",
    "index_names_bulk",
    "name_owner_ids",
    "names_available",
    "new_contact_names",
    "newest_tickets",
    "rebuild_name_index",
    "write_names",
]

NAME_FTS = "contact_name_fts"  # SQLite FTS5
NAME_PG = "contact_name_docs"  # PostgreSQL: contact -> dictionary entry
NAME_DICT = "contact_name_dict"  # PostgreSQL: distinct normalized names
# Matching contacts (newest first) whose tickets one name search lists: as many as the console
# lists tickets (console.search.MAX_RESULTS), since a contact has at least one. A common first
# name alone matches tens of thousands of citizens at a million; the agent adds the surname.
NAME_WINDOW = 500
BUILD_BATCH = 100_000  # contact ids per INSERT ... SELECT when the whole index is built


def names_available(conn: Connection) -> bool:
    """True when the migration made the name index (a create_all() database has none)."""
    return table_present(conn, NAME_FTS, NAME_PG)


# -- writing ---------------------------------------------------------------------------------

_UPSERT_SQLITE = text(f"INSERT OR REPLACE INTO {NAME_FTS} (rowid, doc) VALUES (:c, :d)")  # noqa: S608
# PostgreSQL, for arrays of contact ids and their documents: the missing dictionary entries
# first, then each contact pointed at its entry (a second statement: the first's new rows are
# not visible to a sibling part of the same statement).
_DICT_ADD = text(
    f"INSERT INTO {NAME_DICT} (doc, tsv) SELECT DISTINCT d, to_tsvector('simple', d) "  # noqa: S608
    "FROM unnest(CAST(:d AS text[])) AS u(d) ON CONFLICT (doc) DO NOTHING"
)
_MAP_SET = text(
    f"INSERT INTO {NAME_PG} (contact_id, name_id) SELECT u.c, n.id "  # noqa: S608
    f"FROM unnest(CAST(:c AS integer[]), CAST(:d AS text[])) AS u(c, d) JOIN {NAME_DICT} n ON n.doc = u.d "
    "ON CONFLICT (contact_id) DO UPDATE SET name_id = excluded.name_id"
)
# Dictionary entries no contact points at any more (after an erasure, a rename, a removal).
_DICT_PRUNE = text(
    f"DELETE FROM {NAME_DICT} n WHERE n.id = ANY(CAST(:ids AS integer[])) "  # noqa: S608
    f"AND NOT EXISTS (SELECT 1 FROM {NAME_PG} m WHERE m.name_id = n.id)"
)


def _pg_entries(conn: Connection, contact_ids: list[int]) -> list[int]:
    return list(
        conn.execute(
            text(f"SELECT name_id FROM {NAME_PG} WHERE contact_id = ANY(CAST(:c AS integer[]))"),  # noqa: S608
            {"c": contact_ids},
        ).scalars()
    )


def _pg_write(conn: Connection, rows: Sequence[tuple[int, str]]) -> None:
    """Point contacts at their (new or existing) dictionary entries; prune what they left."""
    ids = [c for c, _ in rows]
    before = _pg_entries(conn, ids)
    docs = [d for _, d in rows]
    conn.execute(_DICT_ADD, {"d": docs})
    conn.execute(_MAP_SET, {"c": ids, "d": docs})
    if before:
        conn.execute(_DICT_PRUNE, {"ids": before})


def drop_names(conn: Connection, contact_ids: Iterable[int]) -> None:
    """Remove the contacts' rows (erasure, a blanked name, a deleted contact)."""
    ids = list(contact_ids)
    if not ids or not names_available(conn):
        return
    if conn.dialect.name == "postgresql":
        before = _pg_entries(conn, ids)
        conn.execute(text(f"DELETE FROM {NAME_PG} WHERE contact_id = ANY(CAST(:c AS integer[]))"), {"c": ids})  # noqa: S608
        if before:
            conn.execute(_DICT_PRUNE, {"ids": before})
    else:
        conn.execute(text(f"DELETE FROM {NAME_FTS} WHERE rowid = :c"), [{"c": c} for c in ids])  # noqa: S608


def new_contact_names(
    conn: Connection, names: Sequence[tuple[int, str | None]]
) -> Callable[[Connection], None] | None:
    """``write_names`` for contacts made in the caller's transaction, as a write that returns
    nothing (None when there is nothing to write): a new contact has no entry to replace or prune,
    so on PostgreSQL it needs no read, and the inbound path sends it with the COMMIT instead of
    waiting for three round trips (issue 14, bench/README.md "pgfirst")."""
    docs = [(c, search_document(name)) for c, name in names if name]
    rows = [(c, d) for c, d in docs if d]
    if not rows or not names_available(conn):
        return None
    if conn.dialect.name != "postgresql":
        return lambda c: run_many(c, _UPSERT_SQLITE, [{"c": i, "d": d} for i, d in rows])
    ids, texts = [i for i, _ in rows], [d for _, d in rows]

    def write(c: Connection) -> None:
        c.execute(_DICT_ADD, {"d": texts})
        c.execute(_MAP_SET, {"c": ids, "d": texts})

    return write


def write_names(conn: Connection, names: Sequence[tuple[int, str | None]]) -> None:
    """Index (contact id, name) pairs, replacing what was there; a blank name drops the row."""
    if not names or not names_available(conn):
        return
    docs = [(c, search_document(name)) for c, name in names]
    drop_names(conn, [c for c, d in docs if not d])
    rows = [(c, d) for c, d in docs if d]
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _pg_write(conn, rows)
    else:
        run_many(conn, _UPSERT_SQLITE, [{"c": c, "d": d} for c, d in rows])


@event.listens_for(Session, "after_flush")
def _index_flushed(session: Session, flush_context: Any) -> None:
    names: list[tuple[int, str | None]] = []
    gone: list[int] = []
    for obj in session.new:
        if isinstance(obj, Contact) and obj.name:
            names.append((obj.id, obj.name))
    for obj in session.dirty:
        if isinstance(obj, Contact) and attributes.get_history(obj, "name").has_changes():
            names.append((obj.id, obj.name))
    for obj in session.deleted:
        if isinstance(obj, Contact):
            gone.append(obj.id)
    if names or gone:
        conn = session.connection()
        drop_names(conn, gone)
        write_names(conn, names)


def index_names_bulk(conn: Connection, contacts: Iterable[Mapping[str, Any]]) -> None:
    """Index contacts a Core bulk insert just wrote (dicts with id and name); each distinct
    name is normalized once (a generated load repeats them)."""
    if not names_available(conn):
        return
    docs: dict[str, str] = {}
    rows: list[tuple[int, str]] = []
    for c in contacts:
        name = c.get("name") or ""
        doc = docs.get(name)
        if doc is None:
            doc = docs[name] = search_document(name)
        if doc:
            rows.append((c["id"], doc))
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # Fresh contacts: nothing to prune.
        conn.execute(_DICT_ADD, {"d": [d for _, d in rows]})
        conn.execute(_MAP_SET, {"c": [c for c, _ in rows], "d": [d for _, d in rows]})
    else:
        conn.execute(_UPSERT_SQLITE, [{"c": c, "d": d} for c, d in rows])


def build_name_index(conn: Connection, batch: int = BUILD_BATCH) -> int:
    """Index every named contact (the migration): per range of ids, the distinct names are
    normalized in Python once into a temporary table, then one INSERT ... SELECT joins them
    to the contacts, so a million contacts are not a million round trips."""
    pg = conn.dialect.name == "postgresql"
    conn.execute(text("CREATE TEMPORARY TABLE name_docs_build (name VARCHAR(200) PRIMARY KEY, doc TEXT)"))
    top = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM contacts")).scalar_one())
    total = 0
    for lo in range(0, top, batch):
        bounds = {"lo": lo, "hi": lo + batch}
        names = conn.execute(
            text("SELECT DISTINCT name FROM contacts WHERE id > :lo AND id <= :hi AND name IS NOT NULL"),
            bounds,
        ).scalars()
        docs = [(n, search_document(n)) for n in names]
        docs = [(n, d) for n, d in docs if d]
        if not docs:
            continue
        conn.execute(text("DELETE FROM name_docs_build"))
        if pg:
            conn.execute(
                text(
                    "INSERT INTO name_docs_build (name, doc) "
                    "SELECT * FROM unnest(CAST(:n AS text[]), CAST(:d AS text[]))"
                ),
                {"n": [n for n, _ in docs], "d": [d for _, d in docs]},
            )
            conn.execute(_DICT_ADD, {"d": [d for _, d in docs]})
            result = conn.execute(
                text(
                    f"INSERT INTO {NAME_PG} (contact_id, name_id) SELECT c.id, n.id "  # noqa: S608
                    "FROM contacts c JOIN name_docs_build b ON b.name = c.name "
                    f"JOIN {NAME_DICT} n ON n.doc = b.doc WHERE c.id > :lo AND c.id <= :hi"
                ),
                bounds,
            )
        else:
            conn.execute(
                text("INSERT INTO name_docs_build (name, doc) VALUES (:n, :d)"),
                [{"n": n, "d": d} for n, d in docs],
            )
            result = conn.execute(
                text(
                    f"INSERT INTO {NAME_FTS} (rowid, doc) SELECT c.id, d.doc "  # noqa: S608
                    "FROM contacts c JOIN name_docs_build d ON d.name = c.name "
                    "WHERE c.id > :lo AND c.id <= :hi"
                ),
                bounds,
            )
        total += max(result.rowcount or 0, 0)
    conn.execute(text("DROP TABLE name_docs_build"))
    return total


def rebuild_name_index(conn: Connection) -> int:
    """Throw the whole index away and build it again from the contacts (``helpdesk kb
    reindex-names``: after a restore or a manual SQL fix). One transaction, the caller's: a
    search sees the old index or the new one, never half of it, and writers wait for it.

    SQLite drops the FTS5 table and makes it again from its own definition in sqlite_master
    (whatever prefix lengths the migrations gave it): one DDL statement where deleting a million
    rows would first tokenize each of them again. PostgreSQL truncates the map and the dictionary.
    Returns the number of contacts indexed."""
    if not names_available(conn):
        return 0
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {NAME_PG}, {NAME_DICT}"))
    else:
        ddl = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": NAME_FTS}
        ).scalar_one()
        conn.execute(text(f"DROP TABLE {NAME_FTS}"))
        conn.execute(text(ddl))
    return build_name_index(conn)


# -- reading ---------------------------------------------------------------------------------


def name_owner_ids(conn: Connection, q: str, window: int = NAME_WINDOW) -> list[int]:
    """The contacts whose tickets a name search lists: the newest ``window`` contacts whose name
    holds every query word (as a prefix), each replaced by the contact it was merged into."""
    if conn.dialect.name == "postgresql":
        tsq = tsquery_expression(q)
        if tsq is None:
            return []
        # The dictionary entries that match (a GIN over distinct names), asked first and on
        # their own: as one statement (name_id IN (subquery) ORDER BY contact_id DESC LIMIT) the
        # planner expects matches everywhere and walks the whole map's primary key backwards
        # for a word in no name (a second at a million contacts). With the ids in hand, a word
        # in no name costs one GIN probe, and the rest reads the (name_id, contact_id) btree.
        name_ids = [
            int(n)
            for n in conn.execute(
                text(f"SELECT id FROM {NAME_DICT} WHERE tsv @@ to_tsquery('simple', :q)"),  # noqa: S608
                {"q": tsq},
            ).scalars()
        ]
        if not name_ids:
            return []
        # One entry (a full name, the usual case): "name_id = :id" reads that entry's contacts
        # newest first from the btree and stops at the LIMIT; with "= ANY" the planner cannot
        # use that order and walked the primary key backwards instead (14 vs 1.5-5 ms, 3,500
        # contacts of one name at a million). Several entries: the planner weighs the two.
        one = len(name_ids) == 1
        matches = (
            f"SELECT contact_id AS id FROM {NAME_PG} WHERE "  # noqa: S608 - constant name
            + ("name_id = :ids" if one else "name_id = ANY(CAST(:ids AS integer[]))")
            + " ORDER BY contact_id DESC LIMIT :w"
        )
        params: dict[str, Any] = {"ids": name_ids[0] if one else name_ids, "w": window}
    else:
        match = match_expression(q)
        if match is None:
            return []
        matches = (
            f"SELECT rowid AS id FROM {NAME_FTS} WHERE {NAME_FTS} MATCH :q "  # noqa: S608
            "ORDER BY rowid DESC LIMIT :w"
        )
        params = {"q": match, "w": window}
    hits = [int(c) for c in conn.execute(text(matches), params).scalars()]
    if not hits:
        return []
    # A merged contact's tickets belong to its target now. Only the few merged contacts are in
    # ix_contacts_merged, so this is a probe of a tiny index, not a read of every hit's row
    # (500 scattered contact rows cost 20 times the name match on PostgreSQL).
    moved: dict[int, int] = dict(
        conn.execute(
            text(
                "SELECT id, merged_into_id FROM contacts "  # noqa: S608 - constant SQL
                f"WHERE merged_into_id IS NOT NULL AND id IN {_id_list(conn)}"
            ),
            {"ids": _ids_param(conn, hits)},
        ).all()
    )
    return list(dict.fromkeys(moved.get(c) or c for c in hits))


# Hundreds of ids as one parameter (a PostgreSQL array, a JSON list SQLite unpacks), not one
# bind parameter each: expanding 500 parameters cost several ms of Python per statement.
def _id_list(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        return "(SELECT unnest(CAST(:ids AS integer[])))"
    return "(SELECT value FROM json_each(:ids))"


def _ids_param(conn: Connection, ids: list[int]) -> Any:
    return ids if conn.dialect.name == "postgresql" else json.dumps(ids)


def newest_tickets(conn: Connection, contact_ids: list[int], limit: int) -> list[int]:
    """The contacts' tickets, newest first by id (ix_tickets_contact_id, from the index alone)."""
    if not contact_ids:
        return []
    found = conn.execute(
        text(
            f"SELECT id FROM tickets WHERE contact_id IN {_id_list(conn)} "  # noqa: S608 - constant
            "ORDER BY id DESC LIMIT :n"
        ),
        {"ids": _ids_param(conn, contact_ids), "n": limit},
    ).scalars()
    return [int(t) for t in found]
