"""Callback figures for the weekly report, counted in SQL like the rest.

* **requested** — callbacks asked for in the week (``callbacks.requested_at``);
* **reached / no_answer / wrong_number** — the calls agents made in the week, by outcome
  (``callback_attempts.at``): a callback not answered is tried again, so it can count twice.

A callback counts under its ticket's channel, queue and category (the report's filters), even
when that ticket was later merged into another: the call was made all the same, and a merge
leaves its callbacks where they are. Rollups stay exact through ``helpdesk.metrics.changes``,
which logs each callback's and each call's time when they are written, and the times of a
ticket's callbacks when the ticket moves to another channel, queue or category.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session

from helpdesk.models import CALLBACK_OUTCOMES, Callback, CallbackAttempt, Ticket

CALLBACK_FIGURES = ("requested", *CALLBACK_OUTCOMES)


@dataclass
class CallbackCounts:
    requested: int = 0
    reached: int = 0
    no_answer: int = 0
    wrong_number: int = 0

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def callbacks_per_week(session: Session, weeks: Any, where: list[Any]) -> list[tuple[int, str, int]]:
    """(week index, figure, count) for the weeks subquery ``weeks``; ``where`` filters tickets."""
    t, c, a = Ticket.__table__.c, Callback.__table__.c, CallbackAttempt.__table__.c
    requested = (
        select(weeks.c.idx, literal("requested"), func.count())
        .select_from(
            weeks.join(Callback.__table__, and_(c.requested_at >= weeks.c.ws, c.requested_at < weeks.c.we))
            .join(Ticket.__table__, t.id == c.ticket_id)
        )
        .where(*where)
        .group_by(weeks.c.idx)
    )
    calls = (
        select(weeks.c.idx, a.outcome, func.count())
        .select_from(
            weeks.join(CallbackAttempt.__table__, and_(a.at >= weeks.c.ws, a.at < weeks.c.we))
            .join(Callback.__table__, c.id == a.callback_id)
            .join(Ticket.__table__, t.id == c.ticket_id)
        )
        .where(*where, a.outcome.in_(CALLBACK_OUTCOMES))
        .group_by(weeks.c.idx, a.outcome)
    )
    found = [*session.execute(requested), *session.execute(calls)]
    return [(int(idx), str(figure), int(count)) for idx, figure, count in found]
