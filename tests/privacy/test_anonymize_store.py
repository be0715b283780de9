"""The anonymizing operation on both stores (SQLite and PostgreSQL): texts, files, sealed numbers,
search rows and identities go; the ticket row with its figures stays."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.models import (
    Attachment,
    Callback,
    CallbackAttempt,
    ContactAccommodation,
    ContactIdentity,
    Message,
    OutboxItem,
    SensitiveValue,
    Ticket,
)
from helpdesk.privacy.erasure import erase_contact
from helpdesk.services import Services
from helpdesk.ticket_search import search_ticket_ids
from helpdesk.tickets import merge_tickets, set_status
from helpdesk.tickets.types import Actor
from tests.privacy.world import citizen_writes

MASKED = "0101990\u2022\u2022\u2022\u2022\u2022\u2022"


def test_erasure_on_both_stores(store: Services) -> None:
    reference = citizen_writes(store, "zoran@example.rs", "Zoran Ilić", "Cara Dušana 5", b"%PDF zoran")
    set_status(store, reference, Actor.system("test"), "closed")
    # Another citizen's ticket onto which an agent merged a second ticket of Zoran's.
    vesna = citizen_writes(store, "vesna@example.rs", "Vesna Lukić", "Njegoševa 12", b"%PDF vesna")
    second = citizen_writes(store, "zoran@example.rs", "Zoran Ilić", "Cara Lazara 9", b"%PDF zoran 2")
    merge_tickets(store, second, vesna, Actor.system("test"))
    with store.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        digest = s.scalars(select(Attachment.sha256).order_by(Attachment.id)).first()
        assert digest is not None and search_ticket_ids(s, "Lazara") != []
        figures = (ticket.created_at, ticket.first_response_at, ticket.resolved_at, ticket.queue)
        ticket_id, contact_id = ticket.id, ticket.contact_id
    with store.db.transaction() as s:  # a call back asked for, tried once, with the agent's note
        now = store.clock.now()
        callback = Callback(
            ticket_id=ticket_id,
            contact_id=contact_id,
            phone="+381641234567",
            source="web",
            status="reached",
            window_start=now,
            window_end=now,
            requested_at=now,
            updated_at=now,
        )
        s.add(callback)
        s.flush()
        s.add(
            CallbackAttempt(callback_id=callback.id, at=now, outcome="reached", note="Zoran, Cara Dušana 5")
        )
        s.add(ContactAccommodation(contact_id=contact_id, kind="plain_language", set_by="contact"))
        assert search_ticket_ids(s, "Dušana") == [ticket_id]
    assert store.attachments.path(digest).exists()

    done = erase_contact(store, contact_id, None, "Zahtev 15/2026")

    # His closed ticket and his merged one (closed, now empty); his message on Vesna's ticket.
    assert (done.scrubbed.tickets, done.scrubbed.attachments, done.files_removed) == (2, 2, 4)
    with store.db.session() as s:
        kept = s.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        assert (kept.created_at, kept.first_response_at, kept.resolved_at, kept.queue) == figures
        assert kept.subject == "" and kept.contact.name is None
        assert search_ticket_ids(s, "Dušana") == [] and search_ticket_ids(s, reference) in ([], [ticket_id])
        texts = set(s.scalars(select(Message.text).where(Message.direction == "inbound")))
        assert texts == {"", f"Moja nova adresa je Njegoševa 12, JMBG {MASKED}."}
        assert search_ticket_ids(s, "Lazara") == [] and search_ticket_ids(s, "Njegoševa") != []
        assert s.scalar(select(func.count()).select_from(SensitiveValue)) == 1  # Vesna's
        assert set(s.scalars(select(ContactIdentity.value))) == {"vesna@example.rs"}
        zoran_ticket = select(Ticket.id).where(Ticket.contact_id == contact_id)
        assert all(
            o.payload == {}
            for o in s.scalars(select(OutboxItem).where(OutboxItem.ticket_id.in_(zoran_ticket)))
        )
        assert s.execute(select(Callback.phone, Callback.status)).one() == ("", "reached")  # counted
        assert s.execute(select(CallbackAttempt.note, CallbackAttempt.outcome)).one() == (None, "reached")
        assert s.scalar(select(func.count()).select_from(ContactAccommodation)) == 0
    assert not store.attachments.path(digest).exists()
