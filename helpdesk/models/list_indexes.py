"""Indexes that serve the console list on a big store (migration 0035): its order by due time,
and its menu of categories.

The console sorts by the deadline a ticket is racing now: its first-response deadline until it
is answered, then its resolution deadline. ``due_order`` is that value written as the index
holds it, so the list's ORDER BY and the index are the same expression on SQLite and PostgreSQL
(both match an expression index by its written form, tables' names aside).

``due_now`` is the same value written the other way round (a CASE with the opposite test): no
index matches it, on purpose. Views of open tickets only (the default view, overdue) sort it:
their tickets are a few thousand however big the store is, and sorting them is cheap; given an
index in due order instead, a planner would walk it from the oldest deadline, through every
closed ticket, to reach the open ones (their deadlines are recent) — the whole table. Their
first pages walk ``ix_tickets_status_due_order`` once per open status instead, and merge the
walks (``helpdesk.console.listing._merged_statuses``): each status's rows are in due order there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Index, and_, case, literal_column, or_
from sqlalchemy.sql.elements import Grouping

from helpdesk.models.tickets import Ticket

_t = Ticket.__table__.c


def due_now(t: Any = _t) -> ColumnElement[Any]:
    """The deadline the ticket is racing now, in SQL (the same rule as sla.next_due); unindexed."""
    return case(
        (and_(t.first_response_at.is_(None), t.first_response_due_at.is_not(None)), t.first_response_due_at),
        else_=t.resolution_due_at,
    )


def due_order(t: Any = _t) -> ColumnElement[Any]:
    """``due_now``'s value, as the indexes below hold it."""
    return case(
        (or_(t.first_response_at.is_not(None), t.first_response_due_at.is_(None)), t.resolution_due_at),
        else_=t.first_response_due_at,
    )


# Alembic's comparison of the models with the database leaves them out (SQLite cannot reflect an
# index on an expression, PostgreSQL writes it back its own way); tests/console/test_list_at_scale.py
# checks them and that the list's ORDER BY is served by them.
LIST_INDEXES = (
    # Any status (with or without a channel, category, queue or an agent's queues): the rows in
    # due order, the filters checked on the way, the first page after ~50 matches.
    # (In parentheses: PostgreSQL takes an expression other than a function call only so.)
    Index("ix_tickets_due_order", Grouping(due_order())),
    # One status (closed: nearly every ticket of a big store): its rows in due order.
    Index("ix_tickets_status_due_order", _t.status, Grouping(due_order())),
)


def category_key(t: Any = _t) -> ColumnElement[Any]:
    """The category as ``ix_tickets_category`` holds it: ``category || ''``, the same value."""
    return t.category.op("||")(literal_column("''"))


# The console's category menu: the tickets' distinct categories, one index step each
# (helpdesk.console.queries.categories), not a read of every ticket. On ``category || ''``, on
# purpose not on the column: SQLite's statistics know only that there are ~10 categories, and on
# the column the list's category filter walked a category's 58,000 tickets for its ~2,000 open
# ones (a third slower than through the open tickets' index).
CATEGORY_INDEX = Index("ix_tickets_category", Grouping(category_key()))
