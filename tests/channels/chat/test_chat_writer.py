"""The chat writer: several citizens' messages in one transaction, one bad message fails alone."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

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


def _send_concurrently(fn: Callable[[int], None], n: int) -> None:
    """``fn(0)`` .. ``fn(n - 1)`` at once, each on a thread of its own (citizens writing together)."""
    threads = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


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

    _send_concurrently(send, 5)
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


def _postgresql_only(svc: Services) -> None:
    if svc.db.dialect != "postgresql":
        pytest.skip("a PostgreSQL connection and pipeline")


def _send(svc: Services, writer: ChatWriter, i: int, name: str = "Građanin", k: int = 1) -> Any:
    item = prepare(svc, dataclasses.replace(chat(i), client_id=f"c{i}-{k}"))
    return writer.store(item, VisitorTouch(item.sender.value, svc.clock.now(), name=name))


def test_a_message_after_postgresql_dropped_the_writers_connection_is_stored(
    store: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(store)
    monkeypatch.setattr("channels.chat.writer.HOLD", 60.0)  # the writer keeps its connection
    monkeypatch.setattr("channels.chat.writer.IDLE_EXIT", 120.0)
    monkeypatch.setattr("channels.chat.writer.PG_WRITERS", 1)  # the message goes to that thread
    writer = ChatWriter(store)
    assert _send(store, writer, 1).created
    with store.db.engine.connect() as admin:  # as a restart does: every other session ends
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    again = _send(store, writer, 1, k=2)  # on the dead connection first, then once more on a new one
    assert again.seq == 2 and not again.created
    with store.db.session() as s:
        assert s.scalar(select(func.count(Message.id))) == 2
    writer.close()


def test_the_writer_sends_its_rows_with_the_commit_and_pings_no_kept_connection(
    store: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(store)
    monkeypatch.setattr("channels.chat.writer.HOLD", 60.0)
    monkeypatch.setattr("channels.chat.writer.IDLE_EXIT", 120.0)
    monkeypatch.setattr("channels.chat.writer.PG_WRITERS", 1)  # the message goes to that thread
    writer = ChatWriter(store)
    _send(store, writer, 1)
    pings, waited = [], []
    ping = store.db.engine.dialect.do_ping
    monkeypatch.setattr(store.db.engine.dialect, "do_ping", lambda c: pings.append(1) or ping(c))

    def record(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if conn.connection.dbapi_connection._pipeline is None:  # a statement waited for alone
            waited.append(sql.split()[0] + " " + sql.split()[2])

    event.listen(store.db.engine, "before_cursor_execute", record)
    try:
        result = _send(store, writer, 1, name="Druga", k=2)
    finally:
        event.remove(store.db.engine, "before_cursor_execute", record)
    assert result.seq == 2
    assert pings == []  # the writer's kept connection: no SELECT 1 before the batch
    assert not [w for w in waited if w.split()[1] in ("chat_visitors", "audit_events", "ticket_search_docs")]
    with store.db.session() as s:
        visitor = s.get(chat_store.ChatVisitor, result_hash(1))
        assert visitor is not None and visitor.name == "Druga"  # committed with the message
    writer.close()


def result_hash(i: int) -> str:
    return chat(i).sender.value


def test_a_visitor_row_refused_at_the_commit_fails_its_message_alone(store: Services) -> None:
    _postgresql_only(store)
    writer = ChatWriter(store)
    outcome: dict[int, Any] = {}

    def send(i: int) -> None:
        try:  # a name longer than the column: PostgreSQL refuses it when the pipeline commits
            outcome[i] = _send(store, writer, i, name="x" * 300 if i == 2 else f"Građanin {i}")
        except Exception as exc:  # noqa: BLE001 - the refusal is what the test looks at
            outcome[i] = exc

    _send_concurrently(send, 5)
    assert isinstance(outcome[2], DBAPIError)
    assert all(outcome[i].created for i in (0, 1, 3, 4))
    assert _send(store, writer, 5).created  # the writer goes on after a failed COMMIT
    with store.db.session() as s:
        assert s.scalar(select(func.count(Message.id))) == 5
    writer.close()
