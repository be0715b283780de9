"""The way out to the message queue (Redis) for one process's Socket.IO events.

Events reach this process's own clients at once (python-socketio handles them here first); their
copies for the other processes used to be PUBLISHed by whoever emitted, the chat writer included,
so a hung Redis held the writer (and the citizens waiting on it). Now they go into a bounded
buffer that one thread sends, pipelined, retrying with backoff while Redis is down, and an emit
never waits on Redis.

Nothing is lost without a word. What the buffer cannot keep (more than ``BUFFER_LIMIT`` waiting,
or older than ``MAX_AGE``) is dropped, and the first send that gets through again starts with a
``resync`` event to every console of the other processes: their pages fetch the queue counts, the
list and the open ticket again, as after a reconnect. Events of any other namespace (the
citizens' /chat) get their ``resync`` in the rooms they were for, so only the pages whose
conversation missed something fetch it again (a citizen's page can only fetch its own; the
resync itself carries nothing). The other way round, a process whose own subscription broke
(Redis restarted) missed whatever was published meanwhile, so it tells every client it has, in
every namespace, to resync once it has subscribed again (``watch_subscription``).

The outage and the recovery are logged with counts and exception types only (no event content:
events carry names and message texts).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# Seconds one try to Redis may take, connecting included: on a LAN it takes a millisecond.
PUBLISH_TIMEOUT = 2.0
BUFFER_LIMIT = 10_000  # messages waiting for Redis; past it the oldest are dropped (and resync)
# Seconds a message may wait: the consoles have shown stale lists this long, and one refetch
# (resync) tells them more than a late replay of everything that happened meanwhile.
MAX_AGE = 30.0
SEND_LIMIT = 500  # messages per pipeline
RETRY_FIRST = 0.1  # seconds before the first retry, doubling up to RETRY_MAX
RETRY_MAX = 5.0
EXIT_WAIT = 5.0  # seconds the interpreter's exit waits for every outbox to empty
# Seconds between tries while the process exits: the backoff (up to RETRY_MAX) could sleep
# through the whole EXIT_WAIT while Redis is already back.
EXIT_RETRY = 0.5
RESYNC = "resync"  # the event that tells a console (or a citizen's page) it missed something
# Rooms of one namespace told one by one after a loss; past it the whole namespace is told (one
# publish instead of thousands, and the set of rooms stays bounded through a long outage).
ROOM_RESYNC_LIMIT = 1_000
Rooms = tuple[tuple[str, "str | None"], ...]  # (namespace, room); room None: the whole namespace


class QueueOutbox:
    """A bounded FIFO of queue messages in front of Redis, drained by its own thread.

    ``resync_namespaces`` are told as a whole after any loss (a console shows many tickets);
    the clients of any other namespace are told by the rooms their lost events were for."""

    def __init__(self, manager: Any, resync_namespaces: tuple[str, ...]) -> None:
        self.manager = manager
        self.resync_namespaces = resync_namespaces
        self.limit = BUFFER_LIMIT
        self.max_age = MAX_AGE
        self.timeout = PUBLISH_TIMEOUT
        self._cond = threading.Condition()
        # (number, queued at, JSON, where a resync goes if it is lost)
        self._items: deque[tuple[int, float, str, Rooms]] = deque()
        self._numbered = 0  # the last number given
        self._lost = 0  # dropped since the last resync went out
        # namespace -> the rooms to tell since the last resync (None: all of the namespace)
        self._lost_rooms: dict[str, set[str] | None] = {}
        self._down_since: float | None = None  # monotonic time of the first failed send
        self._late = 0  # messages sent after waiting through an outage
        self._busy = False  # a send is under way (flush waits for it)
        self._wake = threading.Event()  # cuts a retry's backoff short (hurry)
        self._hurry = False  # the process exits: retry every EXIT_RETRY seconds
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._redis: redis.Redis | None = None
        _outboxes.add(self)

    # -- the emitting side: never waits on Redis ----------------------------------------------
    def put(self, messages: list[Any]) -> None:
        if not messages:
            return
        encoded = [(self.manager.json.dumps(m), self._rooms(m)) for m in messages]  # as emitted
        with self._cond:
            now = time.monotonic()
            for text, rooms in encoded:
                self._numbered += 1
                self._items.append((self._numbered, now, text, rooms))
            over = len(self._items) - self.limit
            if over > 0:
                self._drop(over, "the buffer is full")
            self._ensure_thread()
            self._cond.notify_all()  # the sender, and any flush() waiting

    def _rooms(self, message: Any) -> Rooms:
        """Where a resync must go if this message is lost: nowhere more for a namespace told as a
        whole; else the room(s) the emit was for (None: the namespace)."""
        if not isinstance(message, dict) or message.get("method") != "emit":
            return ()
        namespace = message.get("namespace") or "/"
        if namespace in self.resync_namespaces:
            return ()
        room = message.get("room")
        if room is None or isinstance(room, str):
            return ((namespace, room),)
        return tuple((namespace, str(r)) for r in room)  # to=[rooms]

    def waiting(self) -> int:
        with self._cond:
            return len(self._items)

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued (and a due resync) has gone out; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._items or self._lost or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._cond.wait(left)
        return True

    def hurry(self) -> None:
        """The process is exiting (SIGTERM, the end of a command): try again now, and then
        every ``EXIT_RETRY`` seconds instead of after the backoff."""
        self._hurry = True
        self._wake.set()

    def _drop(self, count: int, why: str) -> None:
        """The oldest ``count`` messages go; the consoles of the other processes will resync."""
        if not self._lost:
            log.error(
                "message queue: %s, dropping events; the consoles of other processes will be "
                "told to reload when it answers",
                why,
            )
        for _ in range(count):
            self._note_rooms(self._items.popleft()[3])
        self._lost += count

    def _note_rooms(self, rooms: Rooms) -> None:
        for namespace, room in rooms:
            if namespace in self._lost_rooms and self._lost_rooms[namespace] is None:
                continue  # the whole namespace is told already
            known = self._lost_rooms.setdefault(namespace, set())
            if room is None or known is None or len(known) >= ROOM_RESYNC_LIMIT:
                self._lost_rooms[namespace] = None
            else:
                known.add(room)

    def _rooms_back(self, lost_rooms: dict[str, set[str] | None]) -> None:
        """A send failed: its resync's rooms are due again (with any lost meanwhile)."""
        for namespace, rooms in lost_rooms.items():
            self._note_rooms(((namespace, None),) if rooms is None else tuple((namespace, r) for r in rooms))

    def _ensure_thread(self) -> None:
        # Started on first use, in the process that emits (a gunicorn worker, not its master).
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._redis = None
            self._thread = threading.Thread(target=self._run, name="queue-outbox", daemon=True)
            self._thread.start()

    # -- the sending thread -------------------------------------------------------------------
    def _run(self) -> None:
        wait = RETRY_FIRST
        while True:
            with self._cond:
                while not self._items and not self._lost:
                    self._cond.wait()
                cutoff = time.monotonic() - self.max_age
                old = 0
                for _number, queued_at, _text, _rooms in self._items:
                    if queued_at >= cutoff:
                        break
                    old += 1
                if old:
                    self._drop(old, f"events older than {self.max_age:g} s")
                batch = [(n, text) for n, _at, text, _r in list(self._items)[:SEND_LIMIT]]
                lost = self._lost
                lost_rooms, self._lost_rooms = self._lost_rooms, {}
                self._busy = True
            try:
                self._send([text for _n, text in batch], resync=lost > 0, rooms=lost_rooms)
            except Exception as exc:  # noqa: BLE001 - any failure: keep the events, try again
                with self._cond:
                    self._rooms_back(lost_rooms)
                    self._busy = False
                    self._cond.notify_all()
                    if self._down_since is None:
                        self._down_since = time.monotonic()
                        log.error(
                            "message queue unreachable (%s): events for other processes held "
                            "(up to %d, %g s) and retried",
                            type(exc).__name__,
                            self.limit,
                            self.max_age,
                        )
                if self._hurry:
                    wait = min(wait, EXIT_RETRY)
                self._wake.wait(wait)
                self._wake.clear()
                wait = min(wait * 2, EXIT_RETRY if self._hurry else RETRY_MAX)
                continue
            wait = RETRY_FIRST
            with self._cond:
                last = batch[-1][0] if batch else 0
                while self._items and self._items[0][0] <= last:  # some may have been dropped
                    self._items.popleft()
                self._lost -= lost
                if self._down_since is not None:
                    self._late += len(batch)
                    if not self._items:
                        self._recovered(lost, lost_rooms)
                self._busy = False
                self._cond.notify_all()

    def _recovered(self, lost: int, lost_rooms: dict[str, set[str] | None]) -> None:
        told = ""
        if lost:
            told = ", consoles of other processes told to reload"
            # Counts only: a room's name is a citizen's token hash.
            for namespace, rooms in sorted(lost_rooms.items()):
                told += f", {namespace}: " + ("all clients" if rooms is None else f"{len(rooms)} rooms")
        log.warning(
            "message queue reachable again after %.1f s: %d events sent late%s",
            time.monotonic() - (self._down_since or time.monotonic()),
            self._late,
            told,
        )
        self._down_since = None
        self._late = 0

    def _send(self, texts: list[str], resync: bool, rooms: dict[str, set[str] | None]) -> None:
        channel = self.manager.channel
        dumps = self.manager.json.dumps
        with self._client().pipeline(transaction=False) as pipe:
            if resync:
                for namespace in self.resync_namespaces:
                    pipe.publish(channel, dumps(self._resync_message(namespace)))
            for namespace, names in rooms.items():
                for room in [None] if names is None else sorted(names):
                    pipe.publish(channel, dumps(self._resync_message(namespace, room)))
            for text in texts:
                pipe.publish(channel, text)
            pipe.execute()

    def _resync_message(self, namespace: str, room: str | None = None) -> dict[str, Any]:
        """An emit to every client of ``namespace`` (or of its ``room``) on the OTHER processes
        (this process's own clients got every event: the listener skips its own host's messages)."""
        return {
            "method": "emit",
            "event": RESYNC,
            "data": [{"type": RESYNC, "reason": "events_lost"}],
            "binary": False,
            "namespace": namespace,
            "room": room,
            "skip_sid": None,
            "callback": None,
            "host_id": self.manager.host_id,
        }

    def _client(self) -> redis.Redis:
        """Not the library's client: its listener thread shares and replaces that one, and a
        socket timeout there would end every idle subscription. redis-py reconnects by itself;
        its own retries would only add waits to ours."""
        if self._redis is None:
            self._redis = redis.Redis.from_url(
                self.manager.redis_url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
            )
        return self._redis


def watch_subscription(manager: Any) -> None:
    """When python-socketio's listener subscribes again after losing Redis, whatever the other
    processes published in the gap never reached this one: tell every client of this process, in
    every namespace (consoles and citizens' chat pages alike), to resync. Which rooms missed
    something is not known here; the event carries nothing, and each page fetches only what it
    may see. (The listener connects through ``_redis_connect`` and then subscribes; the first
    connection is the start, not a gap.)"""
    connect = getattr(manager, "_redis_connect", None)
    if connect is None:
        return
    connections = 0

    def connect_and_watch() -> None:
        nonlocal connections
        connect()
        connections += 1
        pubsub = getattr(manager, "pubsub", None)
        if connections == 1 or pubsub is None:
            return
        subscribe = pubsub.subscribe

        def subscribe_then_resync(*args: Any, **kwargs: Any) -> Any:
            result = subscribe(*args, **kwargs)
            log.warning("message queue subscription restored: this process's clients told to reload")
            try:
                namespaces = list(manager.get_namespaces())  # those with clients here
            except Exception as exc:  # noqa: BLE001 - the subscription stands without it
                log.error("could not tell the clients to reload (%s)", type(exc).__name__)
                return result
            for namespace in namespaces:
                try:
                    manager.emit(
                        RESYNC,
                        {"type": RESYNC, "reason": "subscription_lost"},
                        namespace=namespace,
                        ignore_queue=True,
                    )
                except Exception as exc:  # noqa: BLE001 - the subscription stands without it
                    log.error("could not tell the clients to reload (%s)", type(exc).__name__)
            return result

        pubsub.subscribe = subscribe_then_resync

    manager._redis_connect = connect_and_watch


_outboxes: weakref.WeakSet[QueueOutbox] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    """A command that emits and exits (a CLI import, a worker or `helpdesk serve` stopping on
    SIGTERM) still sends its events, within ``EXIT_WAIT`` seconds for all of them together, and
    says how many it could not (a count: events carry names and message texts)."""
    deadline = time.monotonic() + EXIT_WAIT
    mine = [o for o in list(_outboxes) if o._thread is not None and o._pid == os.getpid()]
    for outbox in mine:
        outbox.hurry()
    for outbox in mine:
        if not outbox.flush(max(0.0, deadline - time.monotonic())):
            log.error(
                "exiting with %d events (and %s resync) not sent to the message queue",
                outbox.waiting(),
                "a" if outbox._lost else "no",
            )
