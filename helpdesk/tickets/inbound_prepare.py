"""The half of an inbound write that needs no lock: normalize, classify, seal, tokenize, blobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpdesk.events import Event
from helpdesk.privacy.vault import seal_texts
from helpdesk.services import Services, TriageDecision
from helpdesk.ticket_search import search_document
from helpdesk.tickets.contacts import normalize_identity
from helpdesk.tickets.types import Identity, InboundMessage, InboundResult


@dataclass(frozen=True)
class Prepared:
    """An inbound message with everything done that needs no write lock."""

    msg: InboundMessage
    sender: Identity
    extra: tuple[Identity, ...]
    decision: TriageDecision
    raw_digest: str | None
    digests: tuple[str, ...]
    text: str  # masked (helpdesk.privacy): what the store, the index and every reader get
    html: str | None
    meta: dict[str, Any]
    sealed: tuple[tuple[str, str], ...]  # (kind, ciphertext) of the full numbers
    index_doc: str  # the search index's document for the text


@dataclass
class Stored:
    """One stored message and what to announce once its transaction committed."""

    result: InboundResult
    events: list[Event]
    wake_outbox: bool


def prepare(svc: Services, msg: InboundMessage) -> Prepared:
    """Normalize, classify, seal, tokenize and store the blobs: everything that needs no write
    lock, so it runs in the caller's thread and never holds up other writers (the chat writer
    thread gets only SQL to do). Raises InvalidChange for an unusable sender."""
    sender = normalize_identity(msg.sender)
    extra = tuple(normalize_identity(i) for i in msg.extra_identities)
    decision = (
        svc.triage.triage(msg.subject, msg.text)
        if msg.content is None
        else svc.triage.triage("", msg.content)  # a placeholder is no evidence for routing
    )
    raw_digest = svc.attachments.put(msg.raw) if msg.raw else None
    digests = tuple(svc.attachments.put(a.data) for a in msg.attachments)
    # Masked before the insert, so the search index and every later reader get the text masked;
    # the full numbers go to sensitive_values, encrypted (helpdesk.privacy.vault).
    masked = seal_texts(svc.settings, msg.text, msg.html, msg.meta, msg.subject)
    return Prepared(
        msg,
        sender,
        extra,
        decision,
        raw_digest,
        digests,
        text=masked.text or "",
        html=masked.html,
        meta=masked.meta,
        sealed=tuple(masked.sealed),
        index_doc=search_document(masked.text or ""),
    )
