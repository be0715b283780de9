"""Tickets and messages as JSON-ready dicts: one shape for events, the API and the console."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from helpdesk.models import Agent, Message, Ticket

# datetime.isoformat costs ~13,000 instructions (CPython formats through PyUnicode_FromFormat),
# and a new ticket's events show the same instant three times (created, updated, its message):
# remembered, bounded (any thread). Only for UTC times: an equal instant in another zone is
# written with its own offset.
_ISO: dict[datetime, str] = {}
_ISO_KEPT = 256


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        return value.isoformat().replace("+00:00", "Z")
    found = _ISO.get(value)
    if found is None:
        if len(_ISO) >= _ISO_KEPT:
            _ISO.clear()
        found = _ISO[value] = value.isoformat().replace("+00:00", "Z")
    return found


def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    contact = ticket.contact
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "category": ticket.category,
        "queue": ticket.queue,
        "assignee_id": ticket.assignee_id,
        "language": ticket.language,
        "script": ticket.script,
        "triage_confidence": ticket.triage_confidence,
        "complaint": ticket.complaint,
        "contact": {"id": contact.id, "name": contact.name} if contact is not None else None,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        "first_response_due_at": iso(ticket.first_response_due_at),
        "resolution_due_at": iso(ticket.resolution_due_at),
        "related_ticket": _reference_of(ticket, ticket.related_ticket_id),
        "merged_into": _reference_of(ticket, ticket.merged_into_id),
        "last_seq": ticket.last_seq,
    }


def _reference_of(ticket: Ticket, ticket_id: int | None) -> str | None:
    """The reference a merged or linked ticket points to (read in the ticket's own session)."""
    if ticket_id is None:
        return None
    session = object_session(ticket)
    if session is None:
        return None  # a detached ticket: the pointer is not loaded, and not worth a new session
    return session.scalar(select(Ticket.reference).where(Ticket.id == ticket_id))


def message_dict(message: Message, agent: Agent | None = None) -> dict[str, Any]:
    return {
        "id": message.id,
        "seq": message.seq,
        "direction": message.direction,
        "kind": message.kind,
        "channel": message.channel,
        "text": message.text,
        "html": message.html,
        "author": {"kind": "agent", "id": agent.id, "name": agent.name}
        if agent is not None
        else ({"kind": "contact", "id": message.contact_id} if message.contact_id else None),
        "created_at": iso(message.created_at),
        "delivery_state": message.delivery_state,
        "delivery_error": message.delivery_error,
        "client_id": message.client_id,
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "inline": a.inline,
            }
            for a in message.attachments
        ],
    }


def ticket_row_dict(ticket: dict[str, Any]) -> dict[str, Any]:
    """``ticket_dict``'s shape from a Core row (the inbound write path keeps no ORM object)."""
    return {
        "reference": ticket["reference"],
        "subject": ticket["subject"],
        "status": ticket["status"],
        "priority": ticket["priority"],
        "channel": ticket["channel"],
        "category": ticket["category"],
        "queue": ticket["queue"],
        "assignee_id": ticket["assignee_id"],
        "language": ticket["language"],
        "script": ticket["script"],
        "triage_confidence": ticket["triage_confidence"],
        "complaint": ticket["complaint"],
        "contact": {"id": ticket["contact_id"], "name": ticket["contact_name"]},
        "created_at": iso(ticket["created_at"]),
        "updated_at": iso(ticket["updated_at"]),
        "first_response_at": iso(ticket["first_response_at"]),
        "resolved_at": iso(ticket["resolved_at"]),
        "first_response_due_at": iso(ticket["first_response_due_at"]),
        "resolution_due_at": iso(ticket["resolution_due_at"]),
        "related_ticket": ticket["related_reference"],
        "merged_into": None,  # a message always lands on the live end of a merge chain
        "last_seq": ticket["last_seq"],
    }


def message_row_dict(message: dict[str, Any], attachments: list[dict[str, Any]]) -> dict[str, Any]:
    """``message_dict``'s shape for an inbound message just written as a Core row."""
    return {
        "id": message["id"],
        "seq": message["seq"],
        "direction": "inbound",
        "kind": "message",
        "channel": message["channel"],
        "text": message["text"],
        "html": message["html"],
        "author": {"kind": "contact", "id": message["contact_id"]} if message["contact_id"] else None,
        "created_at": iso(message["created_at"]),
        "delivery_state": None,
        "delivery_error": None,
        "client_id": message["client_id"],
        "attachments": [
            {
                "id": a["id"],
                "filename": a["filename"],
                "content_type": a["content_type"],
                "size": a["size"],
                "inline": a["inline"],
            }
            for a in attachments
        ],
    }
