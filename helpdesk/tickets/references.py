"""Human ticket references, HD-2026-000123: unique and never reused, even under concurrency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.models import TicketCounter

PREFIX = "HD"
# Built once (a statement built per call cost more than running it); bind names are not column names.
TAKE_NUMBER = (
    update(TicketCounter)
    .where(TicketCounter.year == bindparam("b_year"))
    .values(last=TicketCounter.last + 1)
    .returning(TicketCounter.last)
)

TAKE_NUMBERS = (
    update(TicketCounter)
    .where(TicketCounter.year == bindparam("b_year"))
    .values(last=TicketCounter.last + bindparam("b_count"))
    .returning(TicketCounter.last)
)


def next_reference(session: Session | Connection, now: datetime) -> str:
    """Take the next number of the year with one atomic UPDATE ... RETURNING.

    The UPDATE takes the row lock (PostgreSQL) or runs under the write lock of BEGIN IMMEDIATE
    (SQLite), so two transactions can never read the same number.
    """
    year = now.year
    while True:
        number = session.execute(TAKE_NUMBER, {"b_year": year}).scalar_one_or_none()
        if number is not None:
            return format_reference(year, number)
        try:
            with session.begin_nested():
                session.execute(insert(TicketCounter).values(year=year, last=0))
        except IntegrityError:
            pass  # another transaction created the year's row first; take a number from it


def take_references(conn: Connection, now: datetime, count: int) -> list[str]:
    """``count`` consecutive references with two statements (the first makes the year's row
    if it is missing), for a batch of new tickets."""
    first = next_reference(conn, now)
    if count == 1:
        return [first]
    last = conn.execute(TAKE_NUMBERS, {"b_year": now.year, "b_count": count - 1}).scalar_one()
    return [first, *(format_reference(now.year, n) for n in range(last - count + 2, last + 1))]


def format_reference(year: int, number: int) -> str:
    return f"{PREFIX}-{year}-{number:06d}"
