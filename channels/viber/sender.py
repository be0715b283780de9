"""OutboundSender for Viber: agent replies, acknowledgements and surveys as Viber text messages.

A user who unsubscribed gets nothing and the reason is visible on the ticket (PermanentFailure);
Viber's own "not subscribed" answer (status 6) says the same if we missed the callback.
"""

from __future__ import annotations

import logging

from channels.viber import texts
from channels.viber.api import UNSUBSCRIBED_REASON, ViberApi
from channels.viber.identity import user_id_of
from channels.viber.subscribers import UserStore
from helpdesk.outbound import Envelope, PermanentFailure, SendResult

log = logging.getLogger(__name__)


class ViberSender:
    channel = "viber"

    def __init__(self, api: ViberApi, users: UserStore, sender_name: str) -> None:
        self.api = api
        self.users = users
        self.sender_name = sender_name

    def reaches(self, addresses: dict[str, str]) -> bool:
        return user_id_of(addresses) is not None

    def send(self, envelope: Envelope) -> SendResult:
        receiver = user_id_of(envelope.addresses)
        if receiver is None:
            raise PermanentFailure("The contact has no Viber account to send to.")
        if self.users.is_unsubscribed(receiver):
            raise PermanentFailure(UNSUBSCRIBED_REASON)
        text = texts.body(envelope)
        if not text:
            raise PermanentFailure("Empty message; nothing to send by Viber.")
        try:
            token = self.api.send_text(receiver, text, self.sender_name)
        except PermanentFailure as exc:
            if str(exc) == UNSUBSCRIBED_REASON:  # Viber knew before us: remember it
                self.users.set_subscribed(receiver, False)
            raise
        log.info("viber message sent for %s as %s", envelope.ticket_reference, token)
        return SendResult(external_id=token or None)
