"""Human ticket references, HD-2026-000123: unique and never reused, even under concurrency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, String, Table, bindparam, case, func, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk import db
from helpdesk.models import Ticket, TicketCounter

PREFIX = "HD"
# Built once (a statement built per call cost more than running it); bind names are not column names.
TAKE_NUMBERS = (
    update(TicketCounter)
    .where(TicketCounter.year == bindparam("b_year"))
    .values(last=TicketCounter.last + bindparam("b_count"))
    .returning(TicketCounter.last)
)


def next_reference(session: Session | Connection, now: datetime) -> str:
    """Take the next number of the year with one atomic UPDATE ... RETURNING."""
    return format_reference(now.year, _take_numbers(session, now.year, 1))


def take_references(conn: Connection, now: datetime, count: int) -> list[str]:
    """``count`` consecutive references with one statement, for a batch of new tickets."""
    last = _take_numbers(conn, now.year, count)
    return [format_reference(now.year, n) for n in range(last - count + 1, last + 1)]


def _take_numbers(session: Session | Connection, year: int, count: int) -> int:
    """The last of ``count`` numbers taken from the year's counter (made if missing).

    The UPDATE takes the row lock (PostgreSQL) or runs under the write lock of BEGIN IMMEDIATE
    (SQLite), so two transactions can never read the same number.
    """
    while True:
        params = {"b_year": year, "b_count": count}
        if isinstance(session, Connection):
            row = db.first(session, TAKE_NUMBERS, params)
            last = row[0] if row is not None else None
        else:
            last = session.execute(TAKE_NUMBERS, params).scalar_one_or_none()
        if last is not None:
            return int(last)
        try:
            with session.begin_nested():
                session.execute(insert(TicketCounter).values(year=year, last=0))
        except IntegrityError:
            pass  # another transaction created the year's row first; take the numbers from it


def format_reference(year: int, number: int) -> str:
    return f"{PREFIX}-{year}-{number:06d}"


# -- new tickets numbered by their own INSERT (PostgreSQL) -------------------------------------
#
# The year's counter row stays locked (PostgreSQL) from the statement that takes the numbers to
# the COMMIT, and every other transaction opening a ticket waits for it. Taken by its own
# UPDATE, the numbers came back to Python before the tickets' INSERT could be sent: one more
# round trip under the lock, and in a busy process each answer also waits for the GIL (~1-5 ms
# under the chat bench's load, bench/README.md "pgfirst"). Here the counter is taken inside
# the tickets' INSERT (a data-modifying WITH, run once per statement), which formats each row's
# reference as ``format_reference`` does; the year's row is made if missing (ON CONFLICT, no
# savepoint). Same lock, same order, no gap: it rolls back with the transaction.
# Each new ticket's first message id is reserved by the same statement (``inbound_rows``: the
# message row then goes with the COMMIT).
NEXT_MESSAGE_ID = func.nextval("messages_id_seq")
_COUNTERS = cast(Table, TicketCounter.__table__)
_TICKETS = cast(Table, Ticket.__table__)
_take = pg_insert(_COUNTERS).values(year=bindparam("b_year"), last=bindparam("b_count"))
_NUMBERS = (
    _take.on_conflict_do_update(
        index_elements=[_COUNTERS.c.year], set_={"last": _COUNTERS.c.last + _take.excluded.last}
    )
    .returning(_COUNTERS.c.last)
    .cte("numbers")
)
# A row's number: the last one taken, minus the row's place from the end of the statement.
_number = _NUMBERS.c.last - bindparam("b_back")
_digits = case(
    (_number < 10**6, func.lpad(sql_cast(_number, String), 6, "0")), else_=sql_cast(_number, String)
)
INSERT_NUMBERED = (
    insert(_TICKETS)
    .values(reference=select(bindparam("b_prefix") + _digits).scalar_subquery())
    .add_cte(_NUMBERS)
    .returning(_TICKETS.c.id, _TICKETS.c.reference, NEXT_MESSAGE_ID, sort_by_parameter_order=True)
)
# Tickets per statement: SQLAlchemy splits a longer executemany, and each part would take numbers again.
PAGE = 500
_EXTRA = ("reference", "id", "contact_name", "related_reference")  # not columns, or set by the statement


def numbers_with_insert(conn: Connection) -> bool:
    """True where ``insert_numbered`` takes the numbers inside the INSERT (PostgreSQL)."""
    return conn.dialect.name == "postgresql"


def insert_numbered(conn: Connection, now: datetime, tickets: Sequence[dict[str, Any]]) -> list[int]:
    """Insert the new tickets' rows (PostgreSQL), numbered in their order by the same statement;
    sets each one's ``id`` and ``reference``, and returns a reserved message id for each (in
    their order) for its first message."""
    reserved: list[int] = []
    for start in range(0, len(tickets), PAGE):
        page = tickets[start : start + PAGE]
        count = len(page)
        shared = {"b_year": now.year, "b_count": count, "b_prefix": f"{PREFIX}-{now.year}-"}
        params = [
            {**{k: v for k, v in values.items() if k not in _EXTRA}, **shared, "b_back": count - 1 - i}
            for i, values in enumerate(page)
        ]
        result = conn.execute(INSERT_NUMBERED, params if count > 1 else params[0])
        for values, (ticket_id, reference, message_id) in zip(page, result, strict=True):
            values["id"], values["reference"] = ticket_id, reference
            reserved.append(message_id)
    return reserved
