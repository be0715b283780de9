"""Which of the sender's tickets an inbound message continues (reopening it if it is done)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from helpdesk.models import OPEN_STATUSES
from helpdesk.tickets import inbound_rows as rows
from helpdesk.tickets.inbound_reopen import reopen
from helpdesk.tickets.types import InboundMessage
from helpdesk.tickets.uow import UnitOfWork


def find_thread(
    uow: UnitOfWork, conn: Connection, pending: rows.Pending, msg: InboundMessage, contact_id: int
) -> tuple[dict[str, Any] | None, bool, int | None]:
    """Find the conversation this message continues, using only the sender's own tickets.

    Returns (ticket row, reopened, related ticket id). A reply to a resolved or closed ticket
    reopens it within ``reopen_days``; later, it opens a new ticket linked to the old one.
    """
    ticket = _by_hints(conn, msg, contact_id)
    if ticket is None:
        return None, False, None
    ticket = rows.follow_merges(conn, ticket)
    if ticket["status"] in OPEN_STATUSES:
        return ticket, False, None
    finished = ticket["closed_at"] or ticket["resolved_at"] or ticket["updated_at"]
    if uow.now - finished <= timedelta(days=uow.svc.settings.reopen_days):
        return reopen(uow, conn, pending, ticket, contact_id), True, None
    return None, False, ticket["id"]


def _by_hints(conn: Connection, msg: InboundMessage, contact_id: int) -> dict[str, Any] | None:
    hints = msg.hints
    own = {"contact_id": contact_id}
    if hints.ticket_reference:
        ticket = rows.ticket_row(conn, rows.OWN_BY_REFERENCE, reference=hints.ticket_reference, **own)
        if ticket is not None:
            return ticket
    if hints.in_reply_to:
        ticket = rows.ticket_row(conn, rows.OWN_REPLIED_TO, ids=list(hints.in_reply_to), **own)
        if ticket is not None:
            return ticket
    if hints.reply_token:
        ticket = rows.ticket_row(conn, rows.OWN_BY_REPLY_TOKEN, token=hints.reply_token, **own)
        if ticket is not None:
            return ticket
    if hints.latest_on_channel:
        return rows.ticket_row(conn, rows.OWN_LATEST_ON_CHANNEL, channel=msg.channel, **own)
    if hints.continue_open:
        return rows.ticket_row(conn, rows.OWN_OPEN_ON_CHANNEL, channel=msg.channel, **own)
    return None
