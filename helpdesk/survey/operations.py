"""Recording a citizen's satisfaction answer: a core-style operation (one commit, audit, event)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from helpdesk.events import event, room_for_ticket
from helpdesk.models import Ticket
from helpdesk.privacy import jmbg
from helpdesk.services import Services
from helpdesk.tickets import Actor, InvalidChange, TicketNotFound
from helpdesk.tickets.uow import unit_of_work

MAX_COMMENT = 2000
SCORES = range(1, 6)


class AlreadyAnswered(InvalidChange):
    """One answer per survey: a link that was answered cannot change it (nor can whoever finds it)."""


@dataclass(frozen=True)
class SurveyTicket:
    reference: str
    status: str
    csat_score: int | None
    csat_comment: str | None
    language: str | None
    script: str | None
    resolved_at: datetime | None = None


def survey_ticket(svc: Services, ticket_id: int) -> SurveyTicket:
    with svc.db.session() as s:
        t = s.get(Ticket, ticket_id)
        if t is None:
            raise TicketNotFound(str(ticket_id))
        return SurveyTicket(t.reference, t.status, t.csat_score, t.csat_comment, t.language,
                            t.script, t.resolved_at or t.closed_at)


def record_satisfaction(svc: Services, ticket_id: int, score: int, comment: str | None) -> None:
    """Store the citizen's 1-5 score and optional comment, once (AlreadyAnswered after that)."""
    if score not in SCORES:
        raise InvalidChange("score must be a whole number from 1 to 5")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidChange(f"the comment may have at most {MAX_COMMENT} characters")
    with unit_of_work(svc) as uow:
        stmt = select(Ticket).where(Ticket.id == ticket_id)
        if uow.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=Ticket)
        ticket = uow.session.scalar(stmt)
        if ticket is None:
            raise TicketNotFound(str(ticket_id))
        if ticket.csat_score is not None:  # checked under the row lock: two tabs, one answer
            raise AlreadyAnswered("this survey has been answered already")
        before = {"csat_score": ticket.csat_score}
        ticket.csat_score = score
        # Masked like every other stored text; a survey comment has nothing to reveal it for.
        ticket.csat_comment = jmbg.mask_optional(comment)
        # the comment is the citizen's own words: the audit notes that there is one, not the text
        uow.audit(
            Actor.contact(ticket.contact_id), "ticket.csat_recorded", ticket, before,
            {"csat_score": score, "comment": comment is not None},
        )
        uow.emit(
            event("ticket.csat", room_for_ticket(ticket.reference),
                  ticket={"reference": ticket.reference, "csat_score": score})
        )
