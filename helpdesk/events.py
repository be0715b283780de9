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

    def publish_all(self, events: list[Event]) -> None:
        """A committed change's events, in order."""
        ...


def same_news(a: Event, b: Event) -> bool:
    """The same event for another room (a ticket's room and its queue's)."""
    return a.type == b.type and a.namespace == b.namespace and a.data == b.data


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

    def publish_all(self, events: list[Event]) -> None:
        """One emit for the same event to several rooms (``to=[rooms]``): the packet is built
        and encoded once, and a console in both rooms (its queue's and the ticket it views)
        gets it once. A chat message's ``message.created`` went out as two emits (bench/chat)."""
        i = 0
        while i < len(events):
            first = events[i]
            rooms = [first.room]
            i += 1
            while i < len(events) and same_news(first, events[i]):
                rooms.append(events[i].room)
                i += 1
            if len(rooms) == 1:
                self.publish(first)
                continue
            try:
                self.socketio.emit(first.type, first.payload(), to=rooms, namespace=first.namespace)
            except Exception:  # as publish(): the committed change stands without it
                log.exception("could not publish %s to %s", first.type, rooms)


class RecordingPublisher:
    """Keeps events in a list: for tests and for processes without Socket.IO."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def publish_all(self, events: list[Event]) -> None:
        self.events.extend(events)

    def types(self) -> list[str]:
        return [e.type for e in self.events]
