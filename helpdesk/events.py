"""Domain events: one shape, one helper, explicit rooms; published only after a commit."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from helpdesk.queue_outbox import QueueOutbox, watch_subscription

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

    def publish_batch(self, changes: list[list[Event]]) -> None:
        """Several committed changes' events, in order, sent together (the chat writer's batch)."""
        ...


def same_news(a: Event, b: Event) -> bool:
    """The same event for another room (a ticket's room and its queue's)."""
    return a.type == b.type and a.namespace == b.namespace and a.data == b.data


class SocketIOPublisher:
    """Emits events through Flask-SocketIO (through Redis when configured, reaching every process).

    With Redis, this process's own clients get each event at once; the copies for the other
    processes go into a bounded outbox that a thread of its own sends to Redis (helpdesk/
    queue_outbox.py): no emitting thread (the chat writer, a request) ever waits on Redis, and
    what Redis could not take in time ends in a ``resync`` for the consoles of the other
    processes (and for the citizens' chat pages whose conversation lost an event) instead of
    being lost without a word.
    """

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio
        self._held = threading.local()  # .queued: this thread's queue messages, held for one send
        self._hold_lock = threading.Lock()
        self._holding: Any = None  # the message queue manager whose sends go to the outbox
        self.outbox: QueueOutbox | None = None
        self._queue_manager()  # every queue publish of the process, from the first one

    def publish(self, event: Event) -> None:
        try:
            self.socketio.emit(event.type, event.payload(), to=event.room, namespace=event.namespace)
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

    def publish_batch(self, changes: list[list[Event]]) -> None:
        """Every change's events, emitted as ``publish_all`` does (each process's own clients at
        once), with the message queue's copies handed to the outbox together, so its thread
        sends them in ONE Redis round trip (a pipeline).

        One PUBLISH per message was a round trip per chat message in the citizen's thread, and
        after each the thread waited for the GIL (bench/chat/run.py with PostgreSQL + Redis: 10–17
        ms of wall time per publish at 0.4 ms of CPU; server CPU per message 2.08 -> 1.66 ms with
        the batch's publishes pipelined).
        """
        manager = self._queue_manager()
        if manager is None or self.outbox is None:
            for events in changes:
                self.publish_all(events)
            return
        self._held.queued = []
        try:
            for events in changes:
                self.publish_all(events)
            queued = self._held.queued
        finally:
            self._held.queued = None
        self.outbox.put(queued)

    def _queue_manager(self) -> Any:
        """python-socketio's Redis manager, its publish routed to the outbox (once): held for a
        batch, else queued at once. None without a Redis queue, or one this cannot publish to
        the same way (a sentinel URL, another manager): then the library publishes as it does."""
        manager: Any = getattr(getattr(self.socketio, "server", None), "manager", None)
        if not all(hasattr(manager, a) for a in ("_publish", "channel", "json", "redis_url", "host_id")):
            return None
        if urlsplit(str(manager.redis_url)).scheme not in ("redis", "rediss", "unix"):
            return None
        with self._hold_lock:
            if self._holding is not manager:
                held = self._held
                outbox = QueueOutbox(manager, resync_namespaces=(CONSOLE_NAMESPACE,))

                def hold_or_queue(message: Any) -> Any:
                    queued = getattr(held, "queued", None)
                    if queued is None:  # any other emit, any other thread: queued now
                        outbox.put([message])
                    else:
                        queued.append(message)
                    return None

                manager._publish = hold_or_queue
                watch_subscription(manager)
                self.outbox = outbox
                self._holding = manager
        return manager


class RecordingPublisher:
    """Keeps events in a list: for tests and for processes without Socket.IO."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def publish_all(self, events: list[Event]) -> None:
        self.events.extend(events)

    def publish_batch(self, changes: list[list[Event]]) -> None:
        for events in changes:
            self.events.extend(events)

    def types(self) -> list[str]:
        return [e.type for e in self.events]
