"""Human ticket references, HD-2026-000123: unique and never reused, even under concurrency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk import db
from helpdesk.models import TicketCounter

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
