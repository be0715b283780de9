"""Hints to SQLite's query planner, written as SQL functions that other databases read as the bare
expression. SQLite's statistics hold averages only (tickets per status, per queue), which misjudge
the few open tickets of a big store and the very uneven queues; these say what the averages cannot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class rarely(FunctionElement[bool]):  # noqa: N801 - reads as SQL: rarely(status IN (...))
    """A condition few tickets meet, said so to SQLite's planner: ``likelihood(x, 0.05)`` there,
    ``x`` elsewhere. SQLite's statistics hold only the average tickets per status (200,000 of a
    million: the open ones look like 60% of the table), so with a channel or category filter it
    counted and sorted the open tickets by scanning the whole table: 0.8 s instead of 0.15."""

    # No Boolean type: SQLite's dialect would write `likelihood(...) = 1`, which no index serves.
    inherit_cache = True


@compiles(rarely)
def _rarely(element: rarely, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(rarely, "sqlite")
def _rarely_sqlite(element: rarely, compiler: Any, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.clauses, **kw)}, 0.05)"


class unindexed(FunctionElement[str]):  # noqa: N801 - reads as SQL: unindexed(queue) = 'x'
    """A column SQLite's planner must not look up by an index: ``+column`` there (SQLite's own
    way to say so), the column elsewhere. With a queue filter over every status SQLite took the
    queue's index (a queue holds 60,000-210,000 of a million tickets; its statistics know only
    the average) and sorted the queue's ids for a page: 0.3-1.2 s. Walking the due index and
    checking the queue on the way finds page 1 after ~300 entries (``helpdesk.console.listing`` says when)."""

    type = String()
    inherit_cache = True


@compiles(unindexed)
def _unindexed(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"
