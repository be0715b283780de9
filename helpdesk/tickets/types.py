"""The values the core operations take and return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class TicketNotFound(LookupError):
    pass


class InvalidChange(ValueError):
    """A change the rules do not allow (unknown status, merging a ticket into itself ...)."""


@dataclass(frozen=True)
class Identity:
    kind: str  # email | phone | chat
    value: str


@dataclass(frozen=True)
class AttachmentIn:
    filename: str | None
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class ThreadHints:
    """What the protocol knows about which conversation a message continues."""

    ticket_reference: str | None = None  # e.g. "[HD-2026-000123]" in a subject, a chat's ticket
    in_reply_to: tuple[str, ...] = ()  # external ids this message answers (Message-IDs)
    reply_token: str | None = None  # from a reply+TOKEN@ address
    continue_open: bool = False  # thread onto the sender's open ticket on this channel (SMS, chat)
    # thread onto the sender's latest ticket on this channel whatever its status (chat): a
    # resolved one is reopened within reopen_days, as an email reply would reopen it
    latest_on_channel: bool = False


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    sender: Identity
    subject: str
    text: str
    sender_name: str | None = None
    html: str | None = None  # already sanitized by the adapter
    attachments: tuple[AttachmentIn, ...] = ()
    external_id: str | None = None
    client_id: str | None = None
    hints: ThreadHints = field(default_factory=ThreadHints)
    language: str | None = None
    script: str | None = None
    received_at: datetime | None = None
    wants_acknowledgement: bool = False
    raw: bytes | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    extra_identities: tuple[Identity, ...] = ()  # e.g. the email a chat visitor left
    # What the citizen actually said, for triage, when subject and text are only the adapter's
    # placeholder (an untranscribed voicemail: "" = no content). None: triage reads both.
    content: str | None = None


@dataclass(frozen=True)
class InboundResult:
    ticket_reference: str
    ticket_id: int
    message_id: int
    seq: int
    created: bool
    duplicate: bool = False
    reopened: bool = False


@dataclass(frozen=True)
class Actor:
    kind: str  # agent | contact | system
    id: int | None = None
    name: str | None = None

    @classmethod
    def agent(cls, agent_id: int) -> Actor:
        return cls("agent", agent_id)

    @classmethod
    def contact(cls, contact_id: int) -> Actor:
        return cls("contact", contact_id)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls("system", None, name)


@dataclass(frozen=True)
class MessageRef:
    ticket_reference: str
    message_id: int
    seq: int
    outbox_id: int | None = None
