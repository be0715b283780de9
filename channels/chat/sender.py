"""The outbound sender for channel "chat": agent replies reach the citizen's open page live."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from channels.chat import store
from channels.chat.namespace import CHAT_NAMESPACE
from helpdesk.events import event
from helpdesk.outbound import Envelope, SendResult
from helpdesk.services import Services

log = logging.getLogger(__name__)
EMAIL_FALLBACK_KINDS = ("reply", "survey")


class ChatSender:
    """Emits to the visitor's room (through Redis, so from any process); when no page of the
    citizen is open and they left an email address, the reply also goes out by email."""

    channel = "chat"
    # The citizen reads on an open page: the core sends such channels an incident's notice even
    # though they get no acknowledgement (helpdesk.incidents.linking).
    live = True

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def send(self, envelope: Envelope) -> SendResult:
        visitors, email = store.visitors_of_ticket(self.svc, envelope.ticket_reference)
        payload: dict[str, Any] | None = None
        if envelope.message_id is not None:
            payload = store.message_for_citizen(self.svc, envelope.message_id)
        if payload is not None:
            for visitor in visitors:
                self._emit("message", visitor.token_hash, payload)
        elif envelope.text or envelope.links.get(envelope.kind):
            # No message row (a survey, say): the page shows a notice, with its link if any.
            # Its id (the outbox item's) is the one ``history`` gives it (channels/chat/notices.py):
            # a page that gets both shows it once.
            notice = {
                "id": envelope.item_id,
                "kind": envelope.kind,
                "text": envelope.text,
                "url": envelope.links.get(envelope.kind),
            }
            for visitor in visitors:
                self._emit("notice", visitor.token_hash, notice)
        now = self.svc.clock.now()
        present = any(v.present_until is not None and v.present_until > now for v in visitors)
        mailer = self.svc.senders.get("email")
        if not present and email and mailer is not None and envelope.kind in EMAIL_FALLBACK_KINDS:
            # Offline fallback: the citizen left, so the answer follows them by email.
            mailed = dataclasses.replace(envelope, channel="email", to_address=email)
            result = mailer.send(mailed)
            return SendResult(external_id=result.external_id, state="sent")
        return SendResult(external_id=None, state="delivered" if present else "sent")

    def _emit(self, name: str, hashed: str, data: dict[str, Any]) -> None:
        self.svc.publisher.publish(
            event(name, store.room_for_visitor(hashed), namespace=CHAT_NAMESPACE, **data)
        )
