"""The lean inbound write path (issue 14): one transaction per message or batch, the statements
it needs, and every guarantee of the old path (idempotency, references without gaps, the chat
visitor in the message's transaction, search index and report change log in the same commit)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from channels.chat import store as chat_store
from helpdesk.events import RecordingPublisher
from helpdesk.models import Message, ReportChange, Ticket
from helpdesk.models.chat import ChatVisitor
from helpdesk.services import Services
from helpdesk.ticket_search import search_ticket_ids
from helpdesk.tickets import Identity, InboundMessage, ThreadHints, inbound_rows, receive_inbound
from helpdesk.tickets.inbound import receive_inbound_many

# A chat message on an open ticket: BEGIN, visitor, contact, ticket, seq, message, audit, index.
MAX_STATEMENTS_PER_CHAT_MESSAGE = 8


def chat(hashed: str, text: str, client_id: str) -> InboundMessage:
    return InboundMessage(
        channel="chat",
        sender=Identity("chat", hashed),
        subject="",
        text=text,
        client_id=client_id,
        hints=ThreadHints(latest_on_channel=True),
    )


def email(sender: str, external_id: str, text: str = "Ne mogu da platim taksu.") -> InboundMessage:
    return InboundMessage(
        channel="email",
        sender=Identity("email", sender),
        subject="Taksa",
        text=text,
        external_id=external_id,
    )


def touch(svc: Services, hashed: str, **kw: Any) -> Any:
    return functools.partial(chat_store.touch_in, hashed=hashed, now=svc.clock.now(), **kw)


@contextmanager
def statements(svc: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        seen.append(sql.split()[0].upper() if sql.split() else sql)

    event.listen(svc.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", record)


def test_a_chat_message_is_one_transaction_of_few_statements(store: Services) -> None:
    hashed = chat_store.token_hash("t" * 43)
    receive_inbound(store, chat(hashed, "prva poruka", "c1"), in_transaction=touch(store, hashed))
    with statements(store) as seen:
        result = receive_inbound(
            store, chat(hashed, "druga poruka", "c2"), in_transaction=touch(store, hashed)
        )
    assert result.seq == 2 and not result.created
    assert seen.count("BEGIN") <= 1  # one transaction (PostgreSQL's BEGIN is not a statement)
    assert len(seen) <= MAX_STATEMENTS_PER_CHAT_MESSAGE, seen


def test_the_visitor_and_the_message_roll_back_together(
    store: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed = chat_store.token_hash("v" * 43)

    def broken(*args: Any, **kw: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(inbound_rows, "write_index", broken)  # fails after every other write
    with pytest.raises(RuntimeError):
        receive_inbound(store, chat(hashed, "pomoć", "c1"), in_transaction=touch(store, hashed, name="Ana"))
    with store.db.session() as s:
        assert s.get(ChatVisitor, hashed) is None
        assert s.scalar(select(func.count(Ticket.id))) == 0
    assert isinstance(store.publisher, RecordingPublisher) and store.publisher.events == []


def test_a_redelivered_message_is_answered_and_leaves_no_gap_in_references(store: Services) -> None:
    first = receive_inbound(store, email("ana@example.rs", "<a@x>"))
    again = receive_inbound(store, email("ana@example.rs", "<a@x>"))
    assert again.duplicate and again.message_id == first.message_id
    other = receive_inbound(store, email("marko@example.rs", "<b@x>"))
    assert int(other.ticket_reference[-6:]) == int(first.ticket_reference[-6:]) + 1
    with store.db.session() as s:
        assert s.scalar(select(func.count(Message.id))) == 2


def test_a_batch_is_one_transaction_with_idempotency_per_message(store: Services) -> None:
    assert isinstance(store.publisher, RecordingPublisher)
    receive_inbound(store, email("ana@example.rs", "<old@x>"))
    store.publisher.events.clear()
    with statements(store) as seen:
        results = receive_inbound_many(
            store,
            [
                email("ana@example.rs", "<old@x>"),  # stored before
                email("ana@example.rs", "<new@x>", "Još nešto o taksi."),
                email("ana@example.rs", "<new@x>", "Još nešto o taksi."),  # twice in the batch
                email("marko@example.rs", "<m@x>"),
            ],
        )
    assert [r.duplicate for r in results] == [True, False, True, False]
    assert results[2].message_id == results[1].message_id
    assert results[3].created
    assert seen.count("BEGIN") <= 2  # the batch, and its retry after the unique-key refusal
    # events only for what was stored, after the commit
    created = [e for e in store.publisher.events if e.type == "message.created"]
    assert {e.payload()["message"]["id"] for e in created} == {
        results[1].message_id,
        results[3].message_id,
    }


def test_new_messages_are_searchable_and_logged_for_the_weekly_figures(store: Services) -> None:
    with store.db.session() as s:
        before = s.scalar(select(func.count(ReportChange.id)))
    result = receive_inbound(store, email("ana@example.rs", "<s@x>", "Porez na imovinu kasni"))
    with store.db.session() as s:
        assert s.scalar(select(func.count(ReportChange.id))) == before + 1
        found = search_ticket_ids(s, "imovinu")
    assert result.ticket_id in found
