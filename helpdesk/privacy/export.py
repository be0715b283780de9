"""A citizen's data on request: every ticket, message, attachment and raw mail of one contact.

The ZIP holds ``index.json`` (the contact, its tickets and their messages, each file named by
its path in the archive) and the files themselves under ``files/`` and ``mail/``. Texts are the
stored ones, so JMBGs stay masked as everywhere else; the files are the originals as the citizen
sent them (a sealed one opened: the number in it is their own). Only this contact's tickets go in: another
citizen's ticket is never reached through a merge or a shared file. Every export is audited with
its legal reason and written to the access log.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.attachments import SealedFileUnreadable
from helpdesk.models import AuditEvent, Contact, Message, Ticket
from helpdesk.privacy.access_log import record_access
from helpdesk.services import Services
from helpdesk.tickets.contacts import find_contact
from helpdesk.tickets.types import Identity, InvalidChange

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class NoSuchContact(LookupError):
    pass


class ReasonRequired(ValueError):
    """Exports and erasures are made for a stated legal reason (the request, its number)."""


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes
    tickets: int
    files: int


def check_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) < 5:
        raise ReasonRequired("a legal reason of at least 5 characters is required")
    return reason[:500]


def find_contact_id(svc: Services, value: str) -> int | None:
    """A contact by number, ticket reference, email or phone (as a supervisor types them)."""
    value = value.strip()[:320]
    with svc.db.session() as s:
        if value.isdigit() and len(value) < 10:
            return s.scalar(select(Contact.id).where(Contact.id == int(value)))
        found = s.scalar(select(Ticket.contact_id).where(Ticket.reference == value.upper()))
        if found is not None:
            return found
        try:
            contact = find_contact(s, Identity("email" if "@" in value else "phone", value))
        except InvalidChange:
            return None
        return contact.id if contact is not None else None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _safe(name: str | None, fallback: str) -> str:
    cleaned = _SAFE.sub("_", name or "").strip("._")
    return cleaned[:80] or fallback


def export_contact(svc: Services, contact_id: int, agent_id: int | None, reason: str) -> Export:
    reason = check_reason(reason)
    buffer = io.BytesIO()
    with svc.db.session() as s, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        contact = s.get(Contact, contact_id)
        if contact is None:
            raise NoSuchContact(contact_id)
        tickets = list(
            s.scalars(
                select(Ticket)
                .where(Ticket.contact_id == contact_id)
                .order_by(Ticket.created_at)
                .options(selectinload(Ticket.messages).selectinload(Message.attachments))
            )
        )
        files = 0
        entries = []
        for ticket in tickets:
            messages = []
            for message in ticket.messages:
                entry, added = _message(svc, archive, ticket, message)
                messages.append(entry)
                files += added
            entries.append(_ticket(ticket, messages))
        index = {
            "exported_at": svc.clock.now().isoformat(),
            "contact": {
                "id": contact.id,
                "name": contact.name,
                "language": contact.language,
                "created_at": _iso(contact.created_at),
                "identities": [
                    {"kind": i.kind, "value": i.value} for i in contact.identities if i.kind != "chat"
                ],
            },
            "tickets": entries,
        }
        archive.writestr("index.json", json.dumps(index, ensure_ascii=False, indent=2))
    _audit(svc, contact_id, agent_id, reason, len(tickets))
    record_access(svc, agent_id, "export", contact_id=contact_id)
    return Export(f"contact-{contact_id}.zip", buffer.getvalue(), len(tickets), files)


def _ticket(ticket: Ticket, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "channel": ticket.channel,
        "created_at": _iso(ticket.created_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "csat_score": ticket.csat_score,
        "csat_comment": ticket.csat_comment,
        "messages": messages,
    }


def _message(
    svc: Services, archive: zipfile.ZipFile, ticket: Ticket, message: Message
) -> tuple[dict[str, Any], int]:
    added = 0
    attachments = []
    for n, attachment in enumerate(message.attachments, start=1):
        name = f"files/{ticket.reference}/{message.seq}-{n}-{_safe(attachment.filename, 'file')}"
        data = _original(svc, attachment.sha256)
        if data is not None:
            archive.writestr(name, data)
            added += 1
        attachments.append(
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "file": name if data is not None else None,
            }
        )
    raw = None
    raw_mail = _original(svc, message.raw_path) if message.raw_path else None
    if raw_mail is not None:
        raw = f"mail/{ticket.reference}-{message.seq}.eml"
        archive.writestr(raw, raw_mail)
        added += 1
    entry = {
        "seq": message.seq,
        "direction": message.direction,
        "kind": message.kind,
        "channel": message.channel,
        "from": "citizen" if message.direction == "inbound" else "office",
        "created_at": _iso(message.created_at),
        "text": message.text,
        "html": message.html,
        "attachments": attachments,
        "raw_mail": raw,
    }
    return entry, added


def _original(svc: Services, digest: str) -> bytes | None:
    """A stored file as the citizen sent it (opened if sealed: it is their own number), or None
    when it is gone, is no digest (an old raw path) or the privacy key cannot open it."""
    try:
        return svc.attachments.get(digest)
    except (ValueError, FileNotFoundError, SealedFileUnreadable):
        return None


def _audit(svc: Services, contact_id: int, agent_id: int | None, reason: str, tickets: int) -> None:
    with svc.db.transaction() as s:
        s.add(
            AuditEvent(
                at=svc.clock.now(),
                actor_kind="agent" if agent_id is not None else "system",
                actor_agent_id=agent_id,
                actor_name=None if agent_id is not None else "cli",
                action="privacy.exported",
                subject_id=contact_id,
                after={"reason": reason, "tickets": tickets},
            )
        )
