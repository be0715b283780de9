"""Incident-linked volume for the weekly figures: tickets created in the week that are linked to
an incident. A link is written in the same transaction that creates its ticket, so the rollups'
change log (a new ticket logs its week) already covers it: stored weeks stay exact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.incidents.models import IncidentTicket
from helpdesk.models import Ticket


def linked_per_week(session: Session, weeks: Any, in_week: Any, where: list[Any]) -> list[tuple[int, int]]:
    """(week index, linked tickets created in it) for the weeks subquery ``weeks``."""
    t, link = Ticket.__table__.c, IncidentTicket.__table__.c
    rows = session.execute(
        select(weeks.c.idx, func.count())
        .select_from(
            weeks.join(Ticket.__table__, in_week).join(IncidentTicket.__table__, link.ticket_id == t.id)
        )
        .where(*where)
        .group_by(weeks.c.idx)
    )
    return [(int(idx), int(count)) for idx, count in rows]
