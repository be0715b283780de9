"""After demo data the application adds its own rows: the demo history gives its contacts,
tickets and messages their ids, and on PostgreSQL the id sequences must follow, or the first
new ticket fails with a duplicate key."""

from __future__ import annotations

from sqlalchemy import func, select, text

from helpdesk.demo import EXPLICIT_ID_TABLES, ensure_base, generate, repair_sequences
from helpdesk.models import Agent, Contact, Message, Ticket
from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, reply_to_ticket


def _new_citizen_writes(svc: Services, email: str) -> None:
    """What a running helpdesk does next: a new citizen's inquiry, an agent's answer on a demo
    ticket, a contact added by hand."""
    with svc.db.session() as s:
        before = s.scalar(select(func.max(Ticket.id))) or 0
        demo_ticket = s.scalars(select(Ticket.reference).order_by(Ticket.id)).first()
        agent_id = s.scalars(select(Agent.id)).first()
    assert demo_ticket is not None and agent_id is not None
    result = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", email),
            sender_name="Nova Građanka",
            subject="Ne mogu da platim taksu",
            text="Plaćanje karticom ne prolazi.",
        ),
    )
    assert result.created and result.ticket_id > before
    reply_to_ticket(svc, demo_ticket, Actor.agent(agent_id), "Hvala, proveravamo.")
    reply_to_ticket(svc, result.ticket_reference, Actor.agent(agent_id), "Pokušajte ponovo.")
    by_hand = f"Upisan ručno {email}"
    with svc.db.transaction() as s:
        s.add(Contact(name=by_hand, language="sr", script="latn"))
    with svc.db.session() as s:
        new = s.get(Ticket, result.ticket_id)
        assert new is not None and new.contact.identities[0].value == email
        texts = set(s.scalars(select(Message.text).where(Message.ticket_id == result.ticket_id)))
        assert texts == {"Plaćanje karticom ne prolazi.", "Pokušajte ponovo."}
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.name == by_hand)) == 1


def test_new_tickets_contacts_and_messages_after_demo_data(store: Services) -> None:
    ensure_base(store)
    generate(store, 12, 2, seed=5)
    _new_citizen_writes(store, "nova@example.rs")
    generate(store, 5, 2, seed=6)  # more demo history after the application's own rows
    _new_citizen_writes(store, "druga@example.rs")


def test_demo_data_loaded_before_the_fix_is_repaired(store: Services) -> None:
    ensure_base(store)
    generate(store, 12, 2, seed=5)
    if store.db.dialect == "postgresql":  # as an older demo-data left them: never advanced
        with store.db.transaction() as s:
            for table in EXPLICIT_ID_TABLES:
                s.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"), {"t": table})
    repair_sequences(store)  # what `demo-data --if-empty` does on a loaded store
    _new_citizen_writes(store, "nova@example.rs")
