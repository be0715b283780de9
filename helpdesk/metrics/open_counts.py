"""Open tickets per queue and assignee, summed from the rows the triggers of migration 0034 append.

Every ticket change that moves a ticket into, out of or between (queue, assignee) keys of the open
count appends -1 / +1 rows to ``open_ticket_counts`` in the ticket's transaction, so the sum is
exact in every snapshot. Writers only append (no shared row to wait on); `compact` folds the rows
into one per key: the warm-up worker calls it every pass, and a read that summed more than
`COMPACT_AT` rows calls it after itself, so a read stays a few hundred rows with or without it.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from helpdesk.db import Database
from helpdesk.models import OpenTicketCount

COMPACT_AT = 1_000  # rows summed by a read before it compacts them

Counts = dict[tuple[str, int | None], int]

_c = OpenTicketCount.__table__.c
_SUMMED = select(_c.queue, _c.assignee_id, func.sum(_c.n), func.count()).group_by(_c.queue, _c.assignee_id)
# One statement: exactly the rows it deleted are summed back, whatever other writers (a trigger's
# new row, another compaction: READ COMMITTED skips rows it already deleted) do meanwhile.
_PG_COMPACT = text(
    "WITH gone AS (DELETE FROM open_ticket_counts RETURNING queue, assignee_id, n) "
    "INSERT INTO open_ticket_counts (queue, assignee_id, n) "
    "SELECT queue, assignee_id, sum(n) FROM gone GROUP BY queue, assignee_id HAVING sum(n) <> 0"
)


def open_counts(session: Session) -> tuple[Counts, int]:
    """Open tickets per (queue, assignee id or None), and how many rows were summed for it."""
    counts: Counts = {}
    rows = 0
    for queue, assignee_id, total, summed in session.execute(_SUMMED):
        rows += summed
        if total:
            counts[(queue, assignee_id)] = int(total)
    return counts, rows


def read_open_counts(db: Database) -> Counts:
    """The open counts for a page: read, then folded after the read when it summed too many rows."""
    with db.session() as session:
        counts, summed = open_counts(session)
    if summed > COMPACT_AT:
        compact(db)
    return counts


def compact(db: Database) -> bool:
    """Fold the rows into one per key (keys at zero dropped), in one short write; False (and no
    write) when they are folded already."""
    with db.session() as session:
        # A read first: the warm-up calls this every pass, and on an idle desk there is nothing to
        # fold; its write would take SQLite's write lock, which a citizen's message waits for.
        if folded(session):
            return False
    with db.transaction() as session:
        if db.dialect == "postgresql":
            session.execute(_PG_COMPACT)
            return True
        # SQLite: this transaction holds the write lock, so no row comes or goes meanwhile.
        counts, _ = open_counts(session)
        session.execute(delete(OpenTicketCount))
        if counts:
            session.execute(
                insert(OpenTicketCount),
                [{"queue": q, "assignee_id": a, "n": n} for (q, a), n in counts.items()],
            )
    return True


def folded(session: Session) -> bool:
    """Whether every key has one row and none sums to zero (what `compact` leaves behind)."""
    counts, rows = open_counts(session)
    return rows == len(counts)
