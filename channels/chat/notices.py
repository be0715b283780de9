"""The notices a chat page shows besides messages, as the conversation's state for ``history``.

The live ``notice`` (the satisfaction survey, sent by ``ChatSender`` when an agent resolves the
ticket) has no message row, so ``history`` never carried it: a page that lost it (a reconnect,
the message queue down between two processes) never showed the survey. ``history`` now answers
the notices still standing; each has the id of the outbox item the live one was sent for, so a
page that did get it live shows it once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select

from helpdesk.models import OutboxItem, Ticket
from helpdesk.outbound import survey_url
from helpdesk.services import Services

_OUTBOX = cast(Table, OutboxItem.__table__)
LATEST_SURVEY = (
    select(_OUTBOX.c.id, _OUTBOX.c.created_at)
    .where(
        _OUTBOX.c.ticket_id == bindparam("ticket_id"),
        _OUTBOX.c.channel == "chat",
        _OUTBOX.c.kind == "survey",
    )
    .order_by(_OUTBOX.c.id.desc())
    .limit(1)
)


def standing_notices(svc: Services, ticket: Ticket) -> list[dict[str, Any]]:
    """What the page shows of the ticket besides its messages: the survey invitation while it
    can still be answered. Nothing (and no query) while the ticket is open, as on almost every
    (re)connect: a message reopens a resolved ticket and the survey is no longer the news."""
    if ticket.is_open or ticket.csat_score is not None or ticket.resolved_at is None:
        return []
    with svc.db.engine.connect() as conn:
        item = conn.execute(LATEST_SURVEY, {"ticket_id": ticket.id}).first()
    # Queued at this resolution (set_status queues it in the same transaction, at the same
    # time): not one of an earlier resolution, left unanswered before the ticket was reopened
    # and then closed without a survey.
    if item is None or item.created_at < ticket.resolved_at:
        return []
    # A link that no longer works (helpdesk/survey/views.py) is not worth inviting to.
    if svc.clock.now() - item.created_at > timedelta(days=svc.settings.survey_link_days):
        return []
    settings = svc.settings
    url = survey_url(settings.public_url, settings.secret_key, ticket.id, item.created_at)
    # The shape of the live notice (channels/chat/sender.py), text included ("": the page has it).
    return [{"id": item.id, "kind": "survey", "text": "", "url": url}]
