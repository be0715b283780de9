"""The change log behind the weekly rollups: every flush that moves a ticket in the report logs
the time span it touched (see ``helpdesk.models.reports``).

The hook is on the ORM flush, like the ticket search index, so it runs inside the transaction
that changes the ticket and commits or rolls back with it. Bulk Core writers (the demo-data
generator) call ``record_change`` themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, event, func, insert
from sqlalchemy.orm import Session, attributes

from helpdesk.models import ReportChange, Ticket

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


# Built once: building the INSERT per call cost ~9% of a ticket created over the API (cProfile,
# issue 14). PostgreSQL logs the writing transaction's id with the span; SQLite has none.
_INSERT_POSTGRESQL = insert(ReportChange).values(txid=func.txid_current())
_INSERT = insert(ReportChange)


def record_change(conn: Connection, low: datetime, high: datetime) -> None:
    statement = _INSERT_POSTGRESQL if conn.dialect.name == "postgresql" else _INSERT
    conn.execute(statement, {"low": low, "high": high})


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
    for obj in session.new:
        if isinstance(obj, Ticket):
            times += _times(obj, old=False)
    for obj in session.dirty:
        if isinstance(obj, Ticket) and _moved(obj):
            times += _times(obj, old=True)
    for obj in session.deleted:
        if isinstance(obj, Ticket):
            times += _times(obj, old=True)
    if times:
        record_change(session.connection(), min(times), max(times))
