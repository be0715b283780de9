"""What a channel's sender receives and returns: the outbound contract between core and adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer


@dataclass(frozen=True)
class Envelope:
    item_id: int
    kind: str  # reply | ack | transcript | survey | ...
    channel: str
    ticket_reference: str
    subject: str
    to_address: (
        str | None
    )  # the contact's identity on this channel (email, E.164 phone, chat token)
    to_name: str | None
    text: str
    html: str | None
    language: str  # sr | en
    script: str  # latn | cyrl
    thread_external_ids: tuple[str, ...] = ()  # the thread so far, oldest first (e.g. Message-IDs)
    message_id: int | None = None  # our Message row, when the item sends one
    reply_token: str = ""
    agent_name: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(
        default_factory=dict
    )  # every identity of the contact, by kind
    payload: dict[str, Any] = field(default_factory=dict)  # what the operation that queued it added
    transcript: tuple[TranscriptLine, ...] = ()  # for kind "transcript": the conversation so far
    signature: str = ""  # the answering agent's signature in the ticket's language and script
    quoted: QuotedMessage | None = None  # for a reply: the citizen's message it answers
    external_id: str | None = None  # the id to send under (Message-ID), fixed at the first attempt


@dataclass(frozen=True)
class TranscriptLine:
    author: str
    at: str
    text: str


@dataclass(frozen=True)
class QuotedMessage:
    """The citizen's message a reply answers, for mail clients' usual quote under the answer."""

    author: str | None
    at: datetime
    text: str


@dataclass(frozen=True)
class SendResult:
    external_id: str | None = None  # the channel's id for what was sent (Message-ID, Twilio SID)
    state: str = "sent"  # sent | delivered


class TemporaryFailure(Exception):
    """Try again later (the relay is down, a rate limit)."""


class PermanentFailure(Exception):
    """Will never succeed (no address, opted out, rejected recipient); shown on the ticket."""


@dataclass(frozen=True)
class SurveyLink:
    ticket_id: int
    issued_at: datetime | None  # None: a link from before links carried their date


def survey_token(secret_key: str, ticket_id: int, issued_at: datetime | None = None) -> str:
    """A signed link token naming the ticket and when the survey was sent (links expire)."""
    issued = issued_at or datetime.now(UTC)
    return URLSafeSerializer(secret_key, salt="survey").dumps([ticket_id, int(issued.timestamp())])


def survey_url(public_url: str, secret_key: str, ticket_id: int, issued_at: datetime) -> str:
    """The survey link sent for a ticket when its survey was queued at ``issued_at``: the same
    link from the outbox dispatcher and from a chat page's catch-up (channels/chat/notices.py)."""
    return f"{public_url}/survey/{survey_token(secret_key, ticket_id, issued_at)}"


def read_survey_token(secret_key: str, token: str) -> SurveyLink | None:
    try:
        value = URLSafeSerializer(secret_key, salt="survey").loads(token)
    except BadSignature:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return SurveyLink(value, None)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return SurveyLink(value[0], datetime.fromtimestamp(value[1], UTC))
    return None
