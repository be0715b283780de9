"""The chat writer: several citizens' messages in one transaction, one bad message fails alone."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from channels.chat import store as chat_store
from channels.chat.visitor_rows import VisitorTouch
from channels.chat.writer import ChatWriter
from helpdesk.events import RecordingPublisher
from helpdesk.models import Message
from helpdesk.services import Services
from helpdesk.tickets import Identity, InboundMessage, ThreadHints
from helpdesk.tickets.inbound_prepare import prepare


def chat(i: int) -> InboundMessage:
    return InboundMessage(
        channel="chat",
        sender=Identity("chat", chat_store.token_hash(f"citizen-{i}".ljust(43, "x"))),
        subject="",
        text=f"poruka {i}",
        client_id=f"c{i}",
        hints=ThreadHints(latest_on_channel=True),
    )


def test_a_failing_message_fails_alone_and_the_others_are_stored_and_announced(
    store: Services,
) -> None:
    writer = ChatWriter(store)
    outcome: dict[int, Any] = {}

    def send(i: int) -> None:
        item = prepare(store, chat(i))
        if i == 2:  # a message the database refuses (its text is NOT NULL)
            item = dataclasses.replace(item, text=None)
        try:
            hashed = item.sender.value
            outcome[i] = writer.store(item, VisitorTouch(hashed, store.clock.now(), name=f"Građanin {i}"))
        except IntegrityError as exc:
            outcome[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert isinstance(outcome[2], IntegrityError)
    stored = [outcome[i] for i in (0, 1, 3, 4)]
    assert all(r.created and r.seq == 1 for r in stored)
    with store.db.session() as s:
        assert s.scalar(select(func.count(Message.id))) == 4
        names = set(s.scalars(select(chat_store.ChatVisitor.name)))
    assert names == {"Građanin 0", "Građanin 1", "Građanin 3", "Građanin 4"}  # not the refused one
    assert isinstance(store.publisher, RecordingPublisher)
    announced = {e.data["message"]["id"] for e in store.publisher.events if e.type == "message.created"}
    assert announced == {r.message_id for r in stored}


def test_a_page_that_left_is_marked_gone_by_the_writer(services: Services) -> None:
    writer = ChatWriter(services)
    hashed = chat_store.token_hash("leaving".ljust(43, "x"))
    now = services.clock.now()
    chat_store.touch_visitor(services, hashed, now)
    writer.touch_later(VisitorTouch(hashed, now, present=False))
    for _ in range(300):  # nobody waits for it: look until the writer has committed it
        with services.db.session() as s:
            visitor = s.get(chat_store.ChatVisitor, hashed)
            assert visitor is not None
            gone = visitor.present_until is None
        if gone:
            break
        time.sleep(0.1)
    assert gone


@pytest.fixture(autouse=True)
def _no_idle_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("channels.chat.writer.IDLE_EXIT", 0.5)  # writers end soon after the test
