"""Everything the core operations need, behind small interfaces with local implementations.

One ``Services`` object per app (``app.extensions["helpdesk"]``); the SMTP thread, the dispatcher and
the CLI hold the same object, so a test can swap the clock, the classifier or the publisher in one place.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from flask import current_app

from helpdesk.attachments import AttachmentStore
from helpdesk.db import Database
from helpdesk.events import EventPublisher, RecordingPublisher
from helpdesk.outbound import Envelope, SendResult
from helpdesk.privacy import keys
from helpdesk.settings import Settings

if TYPE_CHECKING:
    from helpdesk.models import Ticket


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests, demo data)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@dataclass(frozen=True)
class TriageDecision:
    category: str
    confidence: float
    priority: str
    complaint: bool
    language: str
    script: str
    queue: str
    assignee_id: int | None = None


class TriageService(Protocol):
    def triage(self, subject: str, text: str) -> TriageDecision: ...


_CYRILLIC = re.compile("[\u0400-\u04ff]")
_SERBIAN_LATIN = re.compile("[čćšžđČĆŠŽĐ]")


class LocalTriage:
    """No model: everything goes to the triage queue where a person decides."""

    def triage(self, subject: str, text: str) -> TriageDecision:
        body = f"{subject} {text}"
        # One regular expression each, not a Python step per character (~20% of a message's
        # preparation, issue 14).
        cyrillic = _CYRILLIC.search(body) is not None
        return TriageDecision(
            category="other",
            confidence=0.0,
            priority="normal",
            complaint=False,
            language="sr" if cyrillic or _SERBIAN_LATIN.search(body) else "en",
            script="cyrl" if cyrillic else "latn",
            queue="triage",
        )


class SlaPolicy(Protocol):
    def on_open(self, ticket: Ticket, now: datetime) -> None: ...

    def on_status_change(self, ticket: Ticket, old: str, new: str, now: datetime) -> None: ...


class ClockHoursSla:
    """Targets in plain clock hours; the supervisor package provides the business-hours policy."""

    FIRST_RESPONSE = {"urgent": 1, "high": 4, "normal": 8, "low": 24}
    RESOLUTION = {"urgent": 8, "high": 24, "normal": 72, "low": 120}

    def on_open(self, ticket: Ticket, now: datetime) -> None:
        ticket.first_response_due_at = now + timedelta(hours=self.FIRST_RESPONSE[ticket.priority])
        ticket.resolution_due_at = now + timedelta(hours=self.RESOLUTION[ticket.priority])

    def on_status_change(self, ticket: Ticket, old: str, new: str, now: datetime) -> None:
        if new == "pending" and ticket.sla_paused_at is None:
            ticket.sla_paused_at = now
        elif old == "pending" and new != "pending" and ticket.sla_paused_at is not None:
            paused = now - ticket.sla_paused_at
            ticket.sla_paused_seconds += int(paused.total_seconds())
            if ticket.resolution_due_at is not None:
                ticket.resolution_due_at += paused
            ticket.sla_paused_at = None


@dataclass(frozen=True)
class KbHit:
    id: int
    title: str
    snippet: str
    score: float
    url: str


class KnowledgeBase(Protocol):
    def search(self, query: str, language: str | None = None, limit: int = 5) -> list[KbHit]: ...


class EmptyKnowledgeBase:
    def search(self, query: str, language: str | None = None, limit: int = 5) -> list[KbHit]:
        return []


class OutboundSender(Protocol):
    channel: str

    def send(self, envelope: Envelope) -> SendResult: ...


class BackgroundService(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class TicketPanel:
    """A box on the console's ticket view, contributed by a plug-in (KB answers, call back, SLA)."""

    template: str
    context: Callable[[Ticket], dict[str, Any]]
    channels: tuple[str, ...] = ()  # shown only on tickets of these channels; empty: on every ticket


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    triage: TriageService = field(default_factory=LocalTriage)
    sla: SlaPolicy = field(default_factory=ClockHoursSla)
    publisher: EventPublisher = field(default_factory=RecordingPublisher)
    kb: KnowledgeBase = field(default_factory=EmptyKnowledgeBase)
    attachments: AttachmentStore = field(init=False)
    senders: dict[str, OutboundSender] = field(default_factory=dict)
    background: list[BackgroundService] = field(default_factory=list)
    ticket_panels: list[TicketPanel] = field(default_factory=list)
    # Channels tickets arrive on; each needs a sender for replies (`helpdesk check` verifies).
    # "web" is always one: the core's JSON form API opens web tickets.
    inbound_channels: set[str] = field(default_factory=lambda: {"web"})
    outbox_wakeup: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        # Files that hold a JMBG are sealed with the privacy key (helpdesk.attachments).
        self.attachments = AttachmentStore(
            self.settings.data_dir / "files", keys.cipher(self.settings, keys.FILES)
        )

    def wake_outbox(self) -> None:
        self.outbox_wakeup.set()


def current_services() -> Services:
    services: Services = current_app.extensions["helpdesk"]
    return services
