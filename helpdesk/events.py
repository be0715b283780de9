"""Domain events: one shape, one helper, explicit rooms; published only after a commit."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

CONSOLE_NAMESPACE = "/console"
CONSOLE_ROOM = "console"  # every connected agent
# Seconds a publish to the message queue (Redis) may take, connecting included: on a LAN it
# takes a millisecond; a hung Redis must not stall the chat writer (it answers after publishing).
PUBLISH_TIMEOUT = 2.0
QUIET = 10.0  # seconds without publishing after a publish timed out


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
    """Emits events through Flask-SocketIO (through Redis when configured, reaching every process)."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio
        self._held = threading.local()  # .queued: this thread's queue messages, held for one send
        self._hold_lock = threading.Lock()
        self._holding: Any = None  # the message queue manager whose sends can be held
        self._redis: redis.Redis | None = None  # this publisher's client for the queue (_client)
        self._quiet_until = 0.0  # monotonic time before which a hung queue is not tried (_send)

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
        once), with the message queue's publishes sent in ONE Redis round trip (a pipeline).

        One PUBLISH per message was a round trip per chat message in the citizen's thread, and
        after each the thread waited for the GIL (bench/chat/run.py with PostgreSQL + Redis: 10–17
        ms of wall time per publish at 0.4 ms of CPU; server CPU per message 2.08 -> 1.66 ms with
        the batch's publishes pipelined). The messages are the library's own: its publish is
        held for this thread while ``publish_all`` runs, then the held ones go out together.
        """
        manager = self._queue_manager()
        if manager is None:
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
        self._send(manager, queued)

    def _send(self, manager: Any, messages: list[Any]) -> None:
        """The messages to the queue's channel, pipelined, on this publisher's own Redis client,
        each try bounded by ``PUBLISH_TIMEOUT``: the chat writer answers its citizens after
        publishing, and redis-py's defaults (5 s, 10 retries) held it ~10 s a batch while Redis
        hung. A dropped connection is retried once, as the library's own publish does; after a
        timeout nothing is sent for ``QUIET`` seconds (each try would wait as long again)."""
        if not messages:
            return
        if time.monotonic() < self._quiet_until:
            log.error("message queue hung: %d events not published", len(messages))
            return
        for attempt in (1, 2):
            try:
                pipe = self._client(manager).pipeline(transaction=False)
                for message in messages:
                    pipe.publish(manager.channel, manager.json.dumps(message))
                pipe.execute()
                return
            except Exception as exc:  # noqa: BLE001 - as publish(): the changes stand without events
                timed_out = isinstance(exc, redis.TimeoutError)
                if timed_out:
                    self._quiet_until = time.monotonic() + QUIET
                if attempt == 2 or timed_out:
                    log.error("could not publish %d events (%s)", len(messages), type(exc).__name__)
                    return

    def _client(self, manager: Any) -> redis.Redis:
        """Not the library's client: its listener thread shares and replaces that one, and a
        socket timeout there would end every idle subscription. redis-py reconnects by itself."""
        with self._hold_lock:
            if self._redis is None:
                self._redis = redis.Redis.from_url(
                    manager.redis_url,
                    socket_timeout=PUBLISH_TIMEOUT,
                    socket_connect_timeout=PUBLISH_TIMEOUT,
                    retry=Retry(NoBackoff(), 0),  # redis-py's default 3 retries with backoff: _send's one
                )
            return self._redis

    def _queue_manager(self) -> Any:
        """python-socketio's Redis manager, its publish routed here (once): held for a batch,
        else sent at once, both on this publisher's client with a timeout. None without a Redis
        queue, or one this cannot publish to the same way (a sentinel URL, another manager):
        then the library publishes as it does."""
        manager: Any = getattr(getattr(self.socketio, "server", None), "manager", None)
        if not all(hasattr(manager, a) for a in ("_publish", "channel", "json", "redis_url")):
            return None
        if urlsplit(str(manager.redis_url)).scheme not in ("redis", "rediss", "unix"):
            return None
        with self._hold_lock:
            if self._holding is not manager:
                held = self._held

                def hold_or_publish(message: Any) -> Any:
                    queued = getattr(held, "queued", None)
                    if queued is None:  # any other emit, any other thread: sent now
                        self._send(manager, [message])
                    else:
                        queued.append(message)
                    return None

                manager._publish = hold_or_publish
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
