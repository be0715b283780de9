"""A batch written a statement per kind (inbound_batch) stores what the one-by-one path stores:
the same tickets, numbers, audit trail, index and events, with a statement count that does not
grow with the batch (both databases)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.events import RecordingPublisher
from helpdesk.models import AuditEvent, Contact, Message, Ticket
from helpdesk.services import Services
from helpdesk.ticket_search import search_ticket_ids
from helpdesk.tickets import Actor, Identity, InboundMessage, ThreadHints, receive_inbound
from helpdesk.tickets.actions import set_status
from helpdesk.tickets.inbound import receive_inbound_many
from tests.core.test_inbound_lean import statements


def chat(who: str, text: str, client_id: str, name: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel="chat",
        sender=Identity("chat", who.ljust(64, "0")),
        sender_name=name,
        subject="",
        text=text,
        client_id=client_id,
        hints=ThreadHints(latest_on_channel=True),
        language="sr",
        script="latn",
    )


def shape(svc: Services, reference: str) -> dict[str, Any]:
    """A ticket as an agent sees it, without ids, numbers and times."""
    with svc.db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.reference == reference))
        assert ticket is not None
        contact = s.get_one(Contact, ticket.contact_id)
        messages = s.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.seq))
        audit = s.scalars(
            select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id)
        )
        return {
            "ticket": (ticket.status, ticket.subject, ticket.queue, ticket.channel, ticket.last_seq),
            "contact": (contact.name, contact.language, contact.script),
            "messages": [(m.seq, m.text, m.client_id, m.direction) for m in messages],
            "audit": list(audit),
        }


def events(svc: Services) -> list[tuple[str, str]]:
    assert isinstance(svc.publisher, RecordingPublisher)
    out = [(e.type, e.room.split(":")[0]) for e in svc.publisher.events]
    svc.publisher.events.clear()
    return out


def test_a_batch_stores_what_one_by_one_stores(store: Services) -> None:
    # one by one (a single message never takes the batch path)
    alone = [
        receive_inbound(store, chat(f"a{i}", f"Pitanje o porezu {i}", f"m{i}-1", "Ana")) for i in range(3)
    ]
    alone += [receive_inbound(store, chat(f"a{i}", f"Još nešto {i}", f"m{i}-2")) for i in range(3)]
    one_by_one = events(store)
    # the same conversations, each step as one batch
    first = receive_inbound_many(
        store, [chat(f"b{i}", f"Pitanje o porezu {i}", f"m{i}-1", "Ana") for i in range(3)]
    )
    with statements(store) as seen:
        second = receive_inbound_many(store, [chat(f"b{i}", f"Još nešto {i}", f"m{i}-2") for i in range(3)])
    together = events(store)

    assert [(r.created, r.seq) for r in first + second] == [(r.created, r.seq) for r in alone]
    numbers = [int(r.ticket_reference[-6:]) for r in alone[:3] + first]
    assert numbers == list(range(numbers[0], numbers[0] + 6))  # consecutive, in the batch's order
    for a, b in zip(alone[:3], first, strict=True):
        assert shape(store, a.ticket_reference) == shape(store, b.ticket_reference)
    assert sorted(one_by_one) == sorted(together)
    # contacts, tickets, numbers, messages, audit, index; SQLite inserts the messages row by row
    # (in-process), PostgreSQL in one statement: one by one it was 4 per message and a BEGIN
    assert len(seen) <= 6 + (3 if store.db.dialect == "sqlite" else 0), seen
    with store.db.session() as s:
        assert {r.ticket_id for r in first} <= set(search_ticket_ids(s, "porezu"))


def test_a_resent_message_in_a_batch_is_answered_once(store: Services) -> None:
    first = receive_inbound_many(store, [chat("c1", "Zdravo", "c1-1"), chat("c2", "Dobar dan", "c2-1")])
    again = receive_inbound_many(store, [chat("c1", "Zdravo", "c1-1"), chat("c2", "Nešto novo", "c2-2")])
    assert again[0].duplicate and again[0].message_id == first[0].message_id
    assert not again[1].duplicate and again[1].seq == 2


def test_a_batch_with_a_resolved_ticket_reopens_it(store: Services) -> None:
    done, other = receive_inbound_many(store, [chat("d1", "Zdravo", "d1-1"), chat("d2", "Zdravo", "d2-1")])
    set_status(store, done.ticket_reference, Actor.system("test"), "resolved")
    later = receive_inbound_many(store, [chat("d1", "Opet ja", "d1-2"), chat("d2", "I ja", "d2-2")])
    assert later[0].reopened and later[0].ticket_reference == done.ticket_reference
    assert later[1].seq == 2 and later[1].ticket_reference == other.ticket_reference


def test_a_batch_statement_is_parsed_once_per_batch_size(store: Services, monkeypatch: Any) -> None:
    # psycopg parses a statement's placeholders again on every execute unless it keeps it in its
    # cache, which by its own bounds skips anything over 4 KiB or 50 parameters: a batch's
    # multi-row INSERTs (helpdesk.db.cache_long_statements). PostgreSQL only.
    if store.db.dialect != "postgresql":
        return
    from psycopg import _queries

    parsed: list[int] = []
    uncached = _queries._query2pg_nocache

    def counted(query: bytes, encoding: str) -> Any:
        parsed.append(len(query))
        return uncached(query, encoding)

    monkeypatch.setattr(_queries, "_query2pg_nocache", counted)
    receive_inbound_many(store, [chat(f"e{i}", f"Pitanje {i}", f"e{i}-1", "Ana") for i in range(8)])
    parsed.clear()
    second = receive_inbound_many(store, [chat(f"f{i}", f"Pitanje {i}", f"f{i}-1", "Ana") for i in range(8)])
    assert all(r.created for r in second)
    assert parsed == []  # the same 8-row INSERTs as the first batch's: from psycopg's cache
