"""The web channel's sender: a web-form citizen is answered by email, else by SMS.

The form has no way back of its own, so this sender delegates to the email or SMS sender with the
contact's address on that channel. The core stays channel-agnostic: it queues "web" items as for
any channel, and this adapter decides how they reach the citizen.
"""

from __future__ import annotations

from dataclasses import replace

from helpdesk.outbound import Envelope, PermanentFailure, SendResult
from helpdesk.services import Services

# In order of preference: (identity kind, the channel whose sender delivers to it).
ROUTES = (("email", "email"), ("phone", "sms"))
NO_WAY_BACK = "the citizen left no email address or phone number to answer on"


def way_back(addresses: dict[str, str], senders: dict[str, object]) -> tuple[str, str] | None:
    """(channel, address) a web-form citizen is answered on, or None when there is none."""
    for kind, channel in ROUTES:
        address = addresses.get(kind)
        if address and channel in senders:
            return channel, address
    return None


class WebSender:
    channel = "web"

    def __init__(self, services: Services) -> None:
        self.services = services

    def reaches(self, addresses: dict[str, str]) -> bool:
        """Whether a reply can reach a contact with these identities (the console asks)."""
        return way_back(addresses, dict(self.services.senders)) is not None

    def delivers_by(self, addresses: dict[str, str]) -> str | None:
        found = way_back(addresses, dict(self.services.senders))
        return found[0] if found else None

    def send(self, envelope: Envelope) -> SendResult:
        found = way_back(envelope.addresses, dict(self.services.senders))
        if found is None:
            raise PermanentFailure(NO_WAY_BACK)
        channel, address = found
        if envelope.payload.get("to"):  # an explicit address (a transcript) wins
            address = envelope.payload["to"]
            channel = "email" if "@" in address else channel
        delegate = self.services.senders[channel]
        return delegate.send(replace(envelope, channel=channel, to_address=address))
