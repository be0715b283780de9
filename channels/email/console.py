"""Console page for the local mail outbox: without a relay, outgoing mail is written as .eml files
under <data_dir>/outbox/ and agents read them here (only for tickets they may see)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from channels.email.parse import decoded_text, header
from helpdesk.console.access import can_access, load_viewer
from helpdesk.models import OutboxItem, Ticket
from helpdesk.services import current_services

bp = Blueprint("email_console", __name__, url_prefix="/console/email")
_NAME = re.compile(r"^(\d{8}T\d{6})-(\d+)\.eml$")
MAX_SHOWN = 50


@dataclass(frozen=True)
class OutboxMail:
    item_id: int
    at: str
    to: str
    subject: str
    message_id: str
    automatic: bool
    text: str


def read_outbox(folder: Path, limit: int = MAX_SHOWN) -> list[OutboxMail]:
    """The newest .eml files first (their names start with a UTC time stamp)."""
    if not folder.is_dir():
        return []
    mails: list[OutboxMail] = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        match = _NAME.match(path.name)
        if not match:
            continue
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        body = msg.get_body(("plain",))
        stamp = match.group(1)
        mails.append(
            OutboxMail(
                item_id=int(match.group(2)),
                at=f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z",
                to=header(msg, "To"),
                subject=header(msg, "Subject"),
                message_id=header(msg, "Message-ID"),
                automatic=header(msg, "Auto-Submitted").lower() not in ("", "no"),
                text=decoded_text(body) if body is not None else "",
            )
        )
    return mails


@bp.get("/outbox")
@login_required
def outbox() -> str:
    svc = current_services()
    mails = read_outbox(svc.settings.data_dir / "outbox")
    viewer = load_viewer(svc, current_user.id)
    shown: list[tuple[OutboxMail, str]] = []
    with svc.db.session() as s:
        rows = s.execute(
            select(OutboxItem.id, Ticket)
            .join(Ticket, Ticket.id == OutboxItem.ticket_id)
            .where(OutboxItem.id.in_([m.item_id for m in mails]))
        ).all()
        tickets = {item_id: ticket for item_id, ticket in rows}
        for mail in mails:
            ticket = tickets.get(mail.item_id)
            if ticket is not None and viewer is not None and can_access(viewer, ticket):
                shown.append((mail, ticket.reference))
    return render_template("email/outbox.html", mails=shown, relay=bool(svc.settings.smtp_relay))
