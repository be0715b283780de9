"""Domain events: one shape, one helper, explicit rooms; published only after a commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

CONSOLE_NAMESPACE = "/console"
CONSOLE_ROOM = "console"  # every connected agent


def room_for_ticket(reference: str) -> str:
    return f"ticket:{reference}"


def room_for_queue(name: str) -> str:
    return f"queue:{name}"


def room_for_agent(agent_id: int) -> str:
    return f"agent:{agent_id}"


@dataclass(frozen=True)
class Event:
    type: str
    room: str
    namespace: str
    data: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, **self.data}


def event(type: str, room: str, namespace: str = CONSOLE_NAMESPACE, **data: Any) -> Event:
    """The one way to build a domain event."""
    return Event(type=type, room=room, namespace=namespace, data=data)


class EventPublisher(Protocol):
    def publish(self, event: Event) -> None: ...


class SocketIOPublisher:
    """Emits events through Flask-SocketIO (through Redis when configured, reaching every process)."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def publish(self, event: Event) -> None:
        try:
            self.socketio.emit(
                event.type, event.payload(), to=event.room, namespace=event.namespace
            )
        except Exception:  # an event is a notification: the committed change stands without it
            log.exception("could not publish %s to %s", event.type, event.room)


class RecordingPublisher:
    """Keeps events in a list: for tests and for processes without Socket.IO."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events]
