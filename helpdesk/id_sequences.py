"""PostgreSQL id sequences after rows were inserted with their ids given.

A serial column's sequence advances only when the database picks the id. A bulk loader that
chooses ids itself (the demo history links contacts, tickets and messages by id within one
multi-row INSERT) leaves the sequence behind, and the next row the application adds takes an id
already used: a duplicate key on the first new ticket. SQLite needs nothing: its next rowid is
one past the largest.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text


def advance_id_sequences(conn: Connection, tables: Iterable[str]) -> None:
    """Move each table's ``id`` sequence to its largest id; never back (ids the application
    took and then deleted or rolled back stay unused). The caller names the tables (constants,
    not input) and owns the transaction; ``setval`` itself takes effect at once."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
        if sequence is None:  # no serial id column
            continue
        top = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar()  # noqa: S608 - constant
        # The sequence's own row: the next id it gives is last_value, or one past it once called.
        last, called = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()  # noqa: S608
        if top is not None and top >= (last + 1 if called else last):
            conn.execute(text("SELECT setval(:s, :n)"), {"s": sequence, "n": top})
