"""The visitor rows the chat writer touches: every visitor of a batch in one executemany.

A message used to touch its visitor with a SELECT and then, when something changed, an INSERT
or UPDATE (``store.touch_in``): one to two statements per message inside the write transaction,
which on PostgreSQL are round trips the whole batch waits for. Here one upsert per batch does the
same, for all the batch's visitors (psycopg sends an executemany as one pipeline, SQLite runs it
in-process): the row is made if missing and written only when the message changes something,
exactly as ``touch_in`` decides (a new name, email or language; presence refreshed at most every
30 s). A page that left is marked gone the same way, by one UPDATE for the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from channels.chat.store import FRESH, PRESENCE, VISITORS


@dataclass(frozen=True)
class VisitorTouch:
    """What one message (or a page that left: ``present=False``) says about its visitor."""

    hashed: str
    now: datetime
    present: bool = True
    name: str | None = None
    email: str | None = None
    language: str | None = None


def _upsert(insert: Callable[..., Any]) -> Any:
    v = VISITORS.c
    when = bindparam("b_now", type_=v.updated_at.type)
    stmt = insert(VISITORS).values(
        token_hash=bindparam("b_hash", type_=v.token_hash.type),
        name=bindparam("b_name", type_=v.name.type),
        email=bindparam("b_email", type_=v.email.type),
        language=bindparam("b_language", type_=v.language.type),
        present_until=bindparam("b_until", type_=v.present_until.type),
        created_at=when,
        updated_at=when,
    )
    new = stmt.excluded

    def changed(column: str) -> Any:  # given, and not what the row has (NULL-safe)
        return and_(new[column].is_not(None), new[column].is_distinct_from(v[column]))

    return stmt.on_conflict_do_update(
        index_elements=[v.token_hash],
        set_={
            "name": func.coalesce(new.name, v.name),
            "email": func.coalesce(new.email, v.email),
            "language": func.coalesce(new.language, v.language),
            "present_until": new.present_until,
            "updated_at": new.updated_at,
        },
        where=or_(
            changed("name"),
            changed("email"),
            changed("language"),
            v.present_until.is_(None),
            v.present_until < bindparam("b_fresh", type_=v.present_until.type),
        ),
    )


UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}
GONE = (
    update(VISITORS)
    .where(VISITORS.c.token_hash == bindparam("b_hash"), VISITORS.c.present_until.is_not(None))
    .values(present_until=None, updated_at=bindparam("b_now"))
)


def touch_all(conn: Connection, touches: Sequence[VisitorTouch]) -> None:
    """Write the touches in the caller's transaction, in order: one statement for each run of
    the same kind (a page that left and then wrote again ends present, as one by one)."""
    for present, run in groupby(touches, key=lambda t: t.present):
        if present:
            conn.execute(UPSERT[conn.dialect.name], [_here(t) for t in run])
        else:
            conn.execute(GONE, [{"b_hash": t.hashed, "b_now": t.now} for t in run])


def _here(t: VisitorTouch) -> dict[str, Any]:
    return {
        "b_hash": t.hashed,
        "b_name": t.name or None,
        "b_email": t.email or None,
        "b_language": t.language or None,
        "b_until": t.now + PRESENCE,
        "b_now": t.now,
        "b_fresh": t.now + FRESH,
    }
