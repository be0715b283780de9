"""Rollups of the supervisor's weekly figures, and the log of ticket changes that invalidates them.

A closed week's figures are kept in ``report_weeks`` (one row per week and filter set) with the
snapshot they were computed in: on SQLite the newest ``report_changes`` id it saw (writers are
serialized, so ids commit in order), on PostgreSQL the transaction snapshot (ids may commit out
of order there; the writer's transaction id tells whether the snapshot saw a change). Every
flush that changes tickets appends ``report_changes`` rows: the times its tickets' report columns
held before and after the change, as the few spans that cover exactly their weeks. A stored week
is used only while no change unseen by its snapshot overlaps it, so the figures are exactly what
a full recomputation would give.
Appending (never updating a shared row) keeps concurrent writers from waiting on each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base


class ReportChange(Base):
    __tablename__ = "report_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    low: Mapped[datetime]  # earliest report timestamp touched (old or new value)
    high: Mapped[datetime]  # latest one
    # PostgreSQL: the writer's transaction (indexed: only those at or past a snapshot's xmin
    # can be unseen by it, so the validity check reads a short range)
    txid: Mapped[int | None] = mapped_column(BigInteger, index=True)


class ReportWeek(Base):
    __tablename__ = "report_weeks"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # week start + filters
    week_start: Mapped[datetime]
    week_end: Mapped[datetime]
    seen: Mapped[str] = mapped_column(Text)  # SQLite: newest change id; PostgreSQL: txid_snapshot
    figures: Mapped[dict[str, Any]]


class OpenTicketCount(Base):
    """Open tickets (new, open, pending; not merged away) per queue and assignee, as rows to sum.

    Kept by triggers on ``tickets`` (migration 0034): each change appends -1 / +1 rows in the
    ticket's own transaction, so writers never wait on a shared row and every writer is counted;
    ``helpdesk.metrics.open_counts.compact`` folds them into one row per key."""

    __tablename__ = "open_ticket_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    assignee_id: Mapped[int | None]  # no foreign key: the tickets' SET NULL moves the count
    n: Mapped[int]
