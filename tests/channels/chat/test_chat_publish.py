"""The chat writer's events through the message queue (Redis): in order, in one round trip, and
never holding citizens' messages when Redis is stopped or hangs (helpdesk.queue_outbox.PUBLISH_TIMEOUT)."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask_socketio import SocketIO
from redis_proxy import RedisProxy  # tests/functional (on the path: conftest.py)

from channels.chat import store as chat_store
from channels.chat.visitor_rows import VisitorTouch
from channels.chat.writer import ChatWriter
from helpdesk.events import SocketIOPublisher, event
from helpdesk.services import Services
from helpdesk.tickets import Identity, InboundMessage, ThreadHints
from helpdesk.tickets.inbound_prepare import prepare


def queued_socketio(url: str) -> SocketIO:
    return SocketIO(
        Flask(__name__),
        async_mode="threading",
        message_queue=url,
        channel=f"helpdesk-test-{uuid.uuid4().hex[:8]}",
        logger=False,
        engineio_logger=False,
    )


def test_a_batchs_events_reach_the_other_processes_in_order(redis_url: str) -> None:
    socketio = queued_socketio(redis_url)
    publisher = SocketIOPublisher(socketio)
    listener = redis.Redis.from_url(redis_url, socket_timeout=10).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(socketio.server.manager.channel)
    publisher.publish_batch(
        [
            [event("message.created", "ticket:HD-1", n=1)],
            [event("message.created", "ticket:HD-2", n=2), event("ticket.updated", "ticket:HD-2", n=2)],
        ]
    )
    seen = []
    for _ in range(20):  # None: the subscription's confirmation, or nothing yet
        message = listener.get_message(timeout=1)
        if message is not None:
            sent = json.loads(message["data"])
            seen.append((sent["event"], sent["room"]))
        if len(seen) == 3:
            break
    assert seen == [
        ("message.created", "ticket:HD-1"),
        ("message.created", "ticket:HD-2"),
        ("ticket.updated", "ticket:HD-2"),
    ]
    listener.close()


@pytest.fixture
def hung_redis(redis_url: str) -> Iterator[RedisProxy]:
    proxy = RedisProxy.to(redis_url)
    yield proxy
    proxy.close()


@pytest.fixture
def stopped_redis() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{s.getsockname()[1]}/0"


def store_two(services: Services, writer: ChatWriter, first: int) -> list[Any]:
    results = []
    for i in range(first, first + 2):
        hashed = chat_store.token_hash(f"citizen-{i}".ljust(43, "x"))
        msg = InboundMessage(
            channel="chat",
            sender=Identity("chat", hashed),
            subject="",
            text=f"poruka {i}",
            client_id=f"c{i}",
            hints=ThreadHints(latest_on_channel=True),
        )
        results.append(writer.store(prepare(services, msg), VisitorTouch(hashed, services.clock.now())))
    return results


def test_citizens_messages_are_stored_and_answered_while_redis_hangs(
    services: Services, hung_redis: RedisProxy
) -> None:
    services.publisher = SocketIOPublisher(queued_socketio(hung_redis.url))
    # A citizen's patience: redis-py's own bounds (5 s, retried) held each batch ~10 s
    writer = ChatWriter(services, wait=8)
    assert [r.created for r in store_two(services, writer, 0)] == [True, True]  # Redis answers
    hung_redis.pause(drop=True)  # connected, and now silent for good
    results = store_two(services, writer, 2) + store_two(services, writer, 4)
    assert [r.created for r in results] == [True] * 4
    assert len({r.ticket_reference for r in results}) == 4
    writer.close()


def test_citizens_messages_are_stored_and_answered_while_redis_is_stopped(
    services: Services, stopped_redis: str
) -> None:
    services.publisher = SocketIOPublisher(queued_socketio(stopped_redis))
    writer = ChatWriter(services, wait=30)
    assert [r.created for r in store_two(services, writer, 0)] == [True, True]
    writer.close()


def resyncs_published(redis_url: str, events: list[Any]) -> list[tuple[str, str | None]]:
    """(namespace, room) of each resync that losing every one of ``events`` publishes."""
    socketio = queued_socketio(redis_url)
    publisher = SocketIOPublisher(socketio)
    listener = redis.Redis.from_url(redis_url, socket_timeout=10).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(socketio.server.manager.channel)
    outbox = publisher.outbox
    assert outbox is not None
    outbox.limit = 0  # nothing is kept: every event is lost, then told
    publisher.publish_batch([events])
    assert outbox.flush(30)
    seen = []
    for _ in range(30):  # until a second passes with nothing more
        message = listener.get_message(timeout=1)
        if message is None and seen:
            break
        if message is not None:
            sent = json.loads(message["data"])
            assert sent["event"] == "resync" and sent["data"] == [{"type": "resync", "reason": "events_lost"}]
            seen.append((sent["namespace"], sent["room"]))
    listener.close()
    return seen


def test_a_lost_chat_event_resyncs_only_its_conversation(redis_url: str) -> None:
    """The consoles resync as a whole; a citizen's page only when its own room lost something."""
    seen = resyncs_published(
        redis_url,
        [
            event("message.created", "ticket:HD-1", n=1),
            event("message", "visitor:aaa", namespace="/chat", seq=2),
            event("typing", "visitor:bbb", namespace="/chat", typing=True),
        ],
    )
    assert sorted(seen, key=str) == [("/chat", "visitor:aaa"), ("/chat", "visitor:bbb"), ("/console", None)]


def test_past_the_room_limit_every_chat_page_resyncs(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("helpdesk.queue_outbox.ROOM_RESYNC_LIMIT", 2)
    rooms = [f"visitor:{i}" for i in range(3)]
    seen = resyncs_published(redis_url, [event("message", r, namespace="/chat") for r in rooms])
    assert sorted(seen, key=str) == [("/chat", None), ("/console", None)]
