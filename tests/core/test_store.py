"""The store and the core operations, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.models import AuditEvent, Contact, ContactIdentity, Message, OutboxItem, Ticket
from helpdesk.services import Services
from helpdesk.tickets import (
    Actor,
    Identity,
    InboundMessage,
    InvalidChange,
    ThreadHints,
    add_note,
    assign_ticket,
    close_by_citizen,
    merge_contacts,
    merge_tickets,
    note_kb_suggested,
    receive_inbound,
    reply_to_ticket,
    set_category,
    set_priority,
    set_queue,
    set_status,
)
from tests.conftest import add_agent


def email(
    sender: str,
    subject: str = "Pomoć oko naloga",
    text: str = "Ne mogu da se prijavim.",
    **kw: object,
) -> InboundMessage:
    return InboundMessage(
        channel="email", sender=Identity("email", sender), subject=subject, text=text, **kw
    )  # type: ignore[arg-type]


def audit_actions(svc: Services, ticket_id: int) -> list[str]:
    with svc.db.session() as s:
        return list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.ticket_id == ticket_id)
                .order_by(AuditEvent.id)
            )
        )


def test_one_contact_across_identities_and_channels(store: Services) -> None:
    first = receive_inbound(store, email("Milica@Example.RS", sender_name="Milica"))
    again = receive_inbound(store, email("milica@example.rs", subject="Druga stvar"))
    with store.db.session() as s:
        contacts = s.scalar(select(func.count(Contact.id)))
        identities = s.scalars(select(ContactIdentity.value)).all()
    assert contacts == 1
    assert identities == ["milica@example.rs"]  # lower-cased: one citizen, one identity
    assert first.ticket_reference != again.ticket_reference  # no thread hint: a new inquiry

    phone = receive_inbound(
        store,
        InboundMessage(
            channel="sms", sender=Identity("phone", "064 123 4567"), subject="", text="Zdravo"
        ),
    )
    with store.db.session() as s:
        value = s.scalar(select(ContactIdentity.value).where(ContactIdentity.kind == "phone"))
        assert value == "+381641234567"  # E.164
        phone_contact = s.get_one(Ticket, phone.ticket_id).contact_id
        mail_contact = s.get_one(Ticket, first.ticket_id).contact_id

    merge_contacts(store, phone_contact, mail_contact, Actor.system("test"))
    later = receive_inbound(
        store,
        InboundMessage(
            channel="sms", sender=Identity("phone", "+381 64 1234567"), subject="", text="Opet ja"
        ),
    )
    with store.db.session() as s:
        assert s.get_one(Ticket, later.ticket_id).contact_id == mail_contact
        assert s.get_one(Ticket, phone.ticket_id).contact_id == mail_contact
        kinds = sorted(
            s.scalars(
                select(ContactIdentity.kind).where(ContactIdentity.contact_id == mail_contact)
            )
        )
        assert kinds == ["email", "phone"]
        merged_audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "contact.merged"))
        assert merged_audit is not None and merged_audit.before == {"contact": phone_contact}
    with pytest.raises(InvalidChange):
        merge_contacts(store, phone_contact, mail_contact, Actor.system("test"))


def test_bad_identities_are_refused(store: Services) -> None:
    for identity in (
        Identity("email", "not-an-address"),
        Identity("phone", "call me"),
        Identity("fax", "123"),
    ):
        with pytest.raises(InvalidChange):
            receive_inbound(
                store, InboundMessage(channel="web", sender=identity, subject="x", text="y")
            )
    with store.db.session() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 0


def test_threading_by_every_hint_and_only_for_the_same_contact(store: Services) -> None:
    first = receive_inbound(store, email("a@example.rs", external_id="<m1@example.rs>"))
    by_reference = receive_inbound(
        store,
        email(
            "a@example.rs",
            subject=f"Re: [{first.ticket_reference}]",
            external_id="<m2@example.rs>",
            hints=ThreadHints(ticket_reference=first.ticket_reference),
        ),
    )
    by_message_id = receive_inbound(
        store,
        email(
            "a@example.rs",
            subject="Re: Pomoć",
            external_id="<m3@example.rs>",
            hints=ThreadHints(in_reply_to=("<m2@example.rs>",)),
        ),
    )
    with store.db.session() as s:
        token = s.get_one(Ticket, first.ticket_id).reply_token
    by_token = receive_inbound(
        store,
        email("a@example.rs", external_id="<m4@example.rs>", hints=ThreadHints(reply_token=token)),
    )
    assert {by_reference.ticket_id, by_message_id.ticket_id, by_token.ticket_id} == {
        first.ticket_id
    }
    assert [first.seq, by_reference.seq, by_message_id.seq, by_token.seq] == [1, 2, 3, 4]
    assert not by_reference.created

    # Someone else quoting the same reference or token does not land on a stranger's ticket.
    stranger = receive_inbound(
        store,
        email(
            "b@example.rs",
            external_id="<x@example.rs>",
            hints=ThreadHints(
                ticket_reference=first.ticket_reference,
                reply_token=token,
                in_reply_to=("<m1@example.rs>",),
            ),
        ),
    )
    assert stranger.created and stranger.ticket_id != first.ticket_id


def test_the_same_message_delivered_twice_is_stored_once(store: Services) -> None:
    one = receive_inbound(store, email("a@example.rs", external_id="<same@example.rs>"))
    two = receive_inbound(store, email("a@example.rs", external_id="<same@example.rs>"))
    assert two.duplicate and two.message_id == one.message_id
    chat = InboundMessage(
        channel="chat",
        sender=Identity("chat", "tok-1"),
        subject="",
        text="Hi",
        client_id="c-1",
        hints=ThreadHints(continue_open=True),
    )
    a = receive_inbound(store, chat)
    b = receive_inbound(store, chat)
    assert b.duplicate and b.message_id == a.message_id
    with store.db.session() as s:
        assert s.scalar(select(func.count(Message.id))) == 2


def test_continue_open_threads_sms_onto_the_open_ticket(store: Services) -> None:
    def sms(text: str) -> InboundMessage:
        return InboundMessage(
            channel="sms",
            sender=Identity("phone", "+381601234567"),
            subject="",
            text=text,
            hints=ThreadHints(continue_open=True),
        )

    first = receive_inbound(store, sms("Kada stiže pasoš?"))
    second = receive_inbound(store, sms("I još nešto"))
    assert second.ticket_id == first.ticket_id
    set_status(store, first.ticket_reference, Actor.system("test"), "closed")
    third = receive_inbound(store, sms("Novo pitanje"))
    assert third.created  # continue_open only continues open tickets


def test_reply_to_closed_ticket_reopens_within_window_else_links_new_ticket(
    store: Services,
) -> None:
    first = receive_inbound(store, email("a@example.rs", external_id="<c1@x>"))
    set_status(store, first.ticket_reference, Actor.system("test"), "closed")
    store.clock.advance(days=store.settings.reopen_days - 1)  # type: ignore[attr-defined]
    reopened = receive_inbound(
        store,
        email("a@example.rs", external_id="<c2@x>", hints=ThreadHints(in_reply_to=("<c1@x>",))),
    )
    assert reopened.reopened and reopened.ticket_id == first.ticket_id
    with store.db.session() as s:
        assert s.get_one(Ticket, first.ticket_id).status == "open"
    set_status(store, first.ticket_reference, Actor.system("test"), "closed")
    store.clock.advance(days=store.settings.reopen_days + 1)  # type: ignore[attr-defined]
    late = receive_inbound(
        store,
        email("a@example.rs", external_id="<c3@x>", hints=ThreadHints(in_reply_to=("<c1@x>",))),
    )
    assert late.created and late.ticket_id != first.ticket_id
    with store.db.session() as s:
        assert s.get_one(Ticket, late.ticket_id).related_ticket_id == first.ticket_id
        assert s.get_one(Ticket, first.ticket_id).status == "closed"


def test_references_are_unique_with_16_concurrent_writers(store: Services) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(5):
                r = receive_inbound(store, email(f"citizen{n}@example.rs", text=f"pitanje {i}"))
                results.append(r.ticket_reference)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 80 and len(set(results)) == 80
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in results)
    assert numbers == list(range(1, 81))  # no gaps, no duplicates
    assert all(r.startswith("HD-2026-") for r in results)


def test_every_change_writes_an_audit_row(store: Services) -> None:
    agent = add_agent(store, "jelena@helpdesk.localhost")
    first = receive_inbound(store, email("a@example.rs"))
    second = receive_inbound(store, email("a@example.rs", subject="Drugo"))
    ref, actor = first.ticket_reference, Actor.agent(agent)
    assign_ticket(store, ref, actor, agent)
    set_priority(store, ref, actor, "high")
    set_category(store, ref, actor, "account_login")
    set_queue(store, ref, actor, "accounts")
    add_note(store, ref, actor, "Proveriti u registru.")
    reply_to_ticket(store, ref, actor, "Poštovani, nalog je otključan.")
    set_status(store, ref, actor, "pending")
    merge_tickets(store, second.ticket_reference, ref, actor)
    actions = audit_actions(store, first.ticket_id)
    assert actions == [
        "ticket.created",
        "message.received",
        "ticket.assigned",
        "ticket.priority_changed",
        "ticket.category_changed",
        "ticket.queue_changed",
        "message.note",
        "message.outbound",
        "ticket.status_changed",
        "ticket.status_changed",
        "ticket.merged_from",
    ]
    with store.db.session() as s:
        change = s.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.category_changed"))
        assert change is not None
        assert (change.before, change.after, change.actor_agent_id) == (
            {"category": "other"},
            {"category": "account_login"},
            agent,
        )
        ticket = s.get_one(Ticket, first.ticket_id)
        assert [m.seq for m in ticket.messages] == [1, 2, 3, 4]  # the merged message came last
        assert ticket.first_response_at is not None
        assert s.get_one(Ticket, second.ticket_id).status == "closed"


def test_reply_queues_outbox_in_the_same_transaction_and_events_after_commit(
    store: Services,
) -> None:
    agent = add_agent(store, "marko@helpdesk.localhost")
    first = receive_inbound(store, email("a@example.rs", wants_acknowledgement=True))
    store.publisher.events.clear()  # type: ignore[attr-defined]
    reply_to_ticket(store, first.ticket_reference, Actor.agent(agent), "Odgovor")
    with store.db.session() as s:
        kinds = s.scalars(select(OutboxItem.kind).order_by(OutboxItem.id)).all()
    assert list(kinds) == ["ack", "reply"]
    assert "message.created" in store.publisher.types()  # type: ignore[attr-defined]

    store.publisher.events.clear()  # type: ignore[attr-defined]
    with pytest.raises(InvalidChange):
        reply_to_ticket(store, first.ticket_reference, Actor.agent(agent), "   ")
    with pytest.raises(InvalidChange):
        set_status(store, first.ticket_reference, Actor.agent(agent), "done")
    assert store.publisher.events == []  # type: ignore[attr-defined]
    with store.db.session() as s:
        assert s.scalar(select(func.count(OutboxItem.id))) == 2


def test_pending_pauses_the_resolution_clock(store: Services) -> None:
    first = receive_inbound(store, email("a@example.rs"))
    with store.db.session() as s:
        due = s.get_one(Ticket, first.ticket_id).resolution_due_at
    set_status(store, first.ticket_reference, Actor.system("t"), "pending")
    store.clock.advance(hours=5)  # type: ignore[attr-defined]
    set_status(store, first.ticket_reference, Actor.system("t"), "open")
    with store.db.session() as s:
        ticket = s.get_one(Ticket, first.ticket_id)
        assert ticket.sla_paused_seconds == 5 * 3600
        assert ticket.resolution_due_at == due + timedelta(hours=5)


def test_a_chat_closed_after_kb_answers_without_an_agent_is_deflected(store: Services) -> None:
    agent = add_agent(store, "deflect@helpdesk.localhost")

    def chat(token: str) -> tuple[str, int]:
        r = receive_inbound(store, InboundMessage(channel="chat", sender=Identity("chat", token),
                                                  subject="", text="Kako da produžim pasoš?"))
        with store.db.session() as s:
            return r.ticket_reference, s.get_one(Ticket, r.ticket_id).contact_id

    found_alone, contact = chat("t-1")
    note_kb_suggested(store, found_alone, Actor.contact(contact), [3, 5])
    assert close_by_citizen(store, found_alone, Actor.contact(contact)) is True

    helped, contact2 = chat("t-2")
    note_kb_suggested(store, helped, Actor.contact(contact2), [3])
    reply_to_ticket(store, helped, Actor.agent(agent), "Evo odgovora.")
    assert close_by_citizen(store, helped, Actor.contact(contact2)) is False

    no_suggestion, contact3 = chat("t-3")
    assert close_by_citizen(store, no_suggestion, Actor.contact(contact3)) is False
    with pytest.raises(InvalidChange):
        close_by_citizen(store, no_suggestion, Actor.contact(contact))  # someone else's chat
    with store.db.session() as s:
        rows = {t.reference: (t.status, t.deflected) for t in s.scalars(select(Ticket))}
    assert rows == {found_alone: ("resolved", True), helped: ("resolved", False),
                    no_suggestion: ("resolved", False)}
