"""Console page for the local mail outbox: without a relay, outgoing mail is written as .eml files
under <data_dir>/outbox/ and agents read them here (only for tickets they may see)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, make_response, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from channels.email.html import allow_remote_images, has_remote_images
from channels.email.parse import decoded_text, header
from helpdesk.access import can_see, load_viewer, visible_references
from helpdesk.models import Message, OutboxItem, Ticket
from helpdesk.services import Services, current_services

bp = Blueprint("email_console", __name__, url_prefix="/console/email")
_NAME = re.compile(r"^(\d{8}T\d{6})-(\d+)\.eml$")
_CID_SRC = re.compile(r'src="cid:([^"]+)"')
# The page that shows remote images on request may load them from anywhere over HTTPS/HTTP.
_IMAGES_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data: https: http:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
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
    with svc.db.session() as s:
        rows = s.execute(
            select(OutboxItem.id, Ticket.reference)
            .join(Ticket, Ticket.id == OutboxItem.ticket_id)
            .where(OutboxItem.id.in_([m.item_id for m in mails]))
        ).all()
    references = {item_id: reference for item_id, reference in rows}
    allowed = visible_references(svc, viewer, references.values())
    shown = [(m, references[m.item_id]) for m in mails if references.get(m.item_id) in allowed]
    return render_template("email/outbox.html", mails=shown, relay=bool(svc.settings.smtp_relay))


def panel_context(ticket: Ticket) -> dict[str, Any]:
    """For the ticket view: the mails whose full HTML or held remote images an agent may open."""
    svc = current_services()
    with svc.db.session() as s:
        rows = s.scalars(
            select(Message)
            .where(Message.ticket_id == ticket.id, Message.channel == "email")
            .where(Message.direction == "inbound")
            .order_by(Message.seq)
        ).all()
        mails = [
            {"id": m.id, "seq": m.seq, "remote_images": bool((m.meta or {}).get("remote_images"))}
            for m in rows
            if m.html or (m.meta or {}).get("full_html")
        ]
    return {"email_mails": mails}


@bp.get("/messages/<int:message_id>")
@login_required
def message_view(message_id: int) -> Response:
    """One mail's sanitized HTML, whole (quotes included); remote images only on request."""
    svc = current_services()
    with svc.db.session() as s:
        message = s.get(Message, message_id)
        if message is None or message.channel != "email" or message.direction != "inbound":
            abort(404)
        ticket = message.ticket
        viewer = load_viewer(svc, current_user.id)
        if not can_see(viewer, ticket):
            abort(403)
        html = message.html or str((message.meta or {}).get("full_html") or "")
        cids = {a.content_id: a.public_id for a in message.attachments if a.content_id}
        reference, seq = ticket.reference, message.seq
    show_images = request.args.get("images") == "1"
    html = _inline_cids(html, cids)
    held = has_remote_images(html)
    if show_images:
        html = allow_remote_images(html)
    response = make_response(
        render_template(
            "email/message.html",
            html=html,
            reference=reference,
            seq=seq,
            message_id=message_id,
            held=held and not show_images,
        )
    )
    if show_images:
        response.headers["Content-Security-Policy"] = _IMAGES_CSP
    return response


def _inline_cids(html: str, cids: dict[str, str]) -> str:
    """cid: images point at the mail's own stored attachments."""

    def replace(match: re.Match[str]) -> str:
        token = cids.get(match.group(1).lower()) or cids.get(match.group(1))
        if token is None:
            return match.group(0)
        return f'src="{url_for("web.attachment", token=token)}"'

    return _CID_SRC.sub(replace, html)


def register_panel(svc: Services) -> None:
    from helpdesk.services import TicketPanel

    svc.ticket_panels.append(TicketPanel("email/_ticket_panel.html", panel_context))
