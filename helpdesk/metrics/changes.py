"""The change log behind the weekly rollups: every flush that moves a ticket in the report logs
the times it touched, old and new values, as the few spans that cover their weeks (`spans`; see
``helpdesk.models.reports``). So does a flush that writes a callback or a call (their own times:
``helpdesk.metrics.callbacks``), and one that moves a ticket with callbacks to another channel,
queue or category (its callbacks' times: they count under it).

The hook is on the ORM flush, like the ticket search index, so it runs inside the transaction
that changes the ticket and commits or rolls back with it. Bulk Core writers (the demo-data
generator) call ``record_change`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, event, func, insert, select, union_all
from sqlalchemy.orm import Session, attributes

from helpdesk.db import run, run_many
from helpdesk.models import Callback, CallbackAttempt, ReportChange, Ticket

# The columns a week is joined by, and every other column a weekly figure or its filters read.
TIME_COLUMNS = ("created_at", "first_response_at", "resolved_at", "resolution_due_at")
REPORT_COLUMNS = (
    *TIME_COLUMNS,
    "first_response_due_at",
    "sla_paused_at",
    "channel",
    "queue",
    "category",
    "merged_into_id",
    "deflected",
    "csat_score",
    "assignee_id",  # the per-agent figures (agent_rollup.py) count a ticket for its assignee
)
# The columns the report's filters read, under which a ticket's callbacks are counted.
FILTER_COLUMNS = ("channel", "queue", "category")


# Built once: building the INSERT per call cost ~9% of a ticket created over the API (cProfile,
# issue 14). PostgreSQL logs the writing transaction's id with the span; SQLite has none.
# inline(): no RETURNING of the new id (nobody reads it), so the row can go in a pipeline with
# the COMMIT (helpdesk.db.pipelined: the inbound path's end).
_INSERT_POSTGRESQL = insert(ReportChange).values(txid=func.txid_current()).inline()
_INSERT = insert(ReportChange).inline()


# Times closer than this are logged as one span. Shorter than the shortest week (167 hours, at a
# daylight-saving change): such a span touches no week that one of its times is not in, so it
# sends no stored week to be recomputed that the times themselves would not.
JOIN_GAP = timedelta(days=6)


def record_change(conn: Connection, low: datetime, high: datetime) -> None:
    statement = _INSERT_POSTGRESQL if conn.dialect.name == "postgresql" else _INSERT
    conn.execute(statement, {"low": low, "high": high})


def spans(times: Iterable[datetime]) -> list[dict[str, datetime]]:
    """The times as few spans as cover exactly the weeks they are in (see `JOIN_GAP`).

    A change's weeks are those of its times, old and new values, not every week between its
    earliest and latest: a reopened ticket created three weeks ago moves the weeks it was created,
    resolved and due in, and the weeks between keep their stored figures."""
    out: list[dict[str, datetime]] = []
    for at in sorted(set(times)):
        if out and at - out[-1]["high"] <= JOIN_GAP:
            out[-1]["high"] = at
        else:
            out.append({"low": at, "high": at})
    return out


def record_times(conn: Connection, times: Iterable[datetime]) -> None:
    """Log a change by its report times (one row per span, a single statement). On SQLite on the
    connection's own cursor (``helpdesk.db.run``: SQLAlchemy's execute cost more than the insert,
    issue 14); on PostgreSQL through SQLAlchemy, as before."""
    rows = spans(times)
    if not rows:
        return
    statement = _INSERT_POSTGRESQL if conn.dialect.name == "postgresql" else _INSERT
    if len(rows) == 1:
        run(conn, statement, rows[0])
    else:
        run_many(conn, statement, rows)


def _times(ticket: Ticket, old: bool) -> list[datetime]:
    out = []
    for name in TIME_COLUMNS:
        if old:
            history = attributes.get_history(ticket, name)
            values = list(history.deleted) + list(history.unchanged) + list(history.added)
        else:
            values = [getattr(ticket, name)]
        out += [v for v in values if isinstance(v, datetime)]
    return out


def _moved(ticket: Ticket) -> bool:
    return any(attributes.get_history(ticket, name).has_changes() for name in REPORT_COLUMNS)


@event.listens_for(Session, "after_flush")
def _log_report_changes(session: Session, flush_context: Any) -> None:
    # after_flush: defaults are filled in, and the history still holds the old values.
    times: list[datetime] = []
    # Each of these walks the identity map: read once, for the tickets and the callbacks.
    new, dirty, deleted = list(session.new), list(session.dirty), list(session.deleted)
    for obj in new:
        if isinstance(obj, Ticket):
            times += _times(obj, old=False)
    for obj in dirty:
        if isinstance(obj, Ticket) and _moved(obj):
            times += _times(obj, old=True)
    for obj in deleted:
        if isinstance(obj, Ticket):
            times += _times(obj, old=True)
    times += _callback_times(session, [*new, *deleted], dirty)
    if times:
        record_times(session.connection(), times)


def _changed(obj: object, names: tuple[str, ...]) -> bool:
    return any(attributes.get_history(obj, name).has_changes() for name in names)


def _callback_times(session: Session, added_or_deleted: list[object], dirty: list[object]) -> list[datetime]:
    """The times of the callback figures this flush moves."""
    times: list[datetime] = []
    tickets: set[int] = set()
    for obj in added_or_deleted:
        if isinstance(obj, Callback):
            times.append(obj.requested_at)
        elif isinstance(obj, CallbackAttempt):
            times.append(obj.at)
    for obj in dirty:
        if isinstance(obj, Callback) and _changed(obj, ("requested_at", "ticket_id")):
            history = attributes.get_history(obj, "requested_at")
            times += [*history.deleted, *history.unchanged, *history.added]
            tickets.update(v for v in attributes.get_history(obj, "ticket_id").sum() if v is not None)
        elif isinstance(obj, CallbackAttempt) and _changed(obj, ("at", "outcome", "callback_id")):
            history = attributes.get_history(obj, "at")
            times += [*history.deleted, *history.unchanged, *history.added]
        elif isinstance(obj, Ticket) and obj.id is not None and _changed(obj, FILTER_COLUMNS):
            tickets.add(obj.id)  # rare (a re-queue, a new category): one small indexed read
    if tickets:
        times += _times_of_callbacks(session, tickets)
    return [t for t in times if isinstance(t, datetime)]


def _times_of_callbacks(session: Session, ticket_ids: set[int]) -> list[datetime]:
    """Every request and call time of the tickets' callbacks (each one: the change log keeps the
    weeks of its times, not the span between the first and the last)."""
    c, a = Callback.__table__.c, CallbackAttempt.__table__.c
    times = union_all(
        select(c.requested_at).where(c.ticket_id.in_(ticket_ids)),
        select(a.at)
        .select_from(CallbackAttempt.__table__.join(Callback.__table__, c.id == a.callback_id))
        .where(c.ticket_id.in_(ticket_ids)),
    )
    return [v for (v,) in session.connection().execute(times) if v is not None]
