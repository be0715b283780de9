"""PostgreSQL's table of search words (migration 0031): the word search asks the GIN index for the
whole words a query prefix stands for, so every word written must be there, and an erased
citizen's words must not stay behind."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from helpdesk.models import Ticket
from helpdesk.privacy.erasure import erase_contact
from helpdesk.services import Services
from helpdesk.ticket_search import search_ticket_ids
from helpdesk.tickets import Actor, Identity, InboundMessage, add_note, receive_inbound


def open_ticket(svc: Services, sender: str, subject: str, body: str) -> tuple[str, int]:
    result = receive_inbound(svc, InboundMessage("email", Identity("email", sender), subject, body))
    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.reference == result.ticket_reference)).one()
        return ticket.reference, ticket.contact_id


def stored(svc: Services, *words: str) -> set[str]:
    with svc.db.session() as s:
        found = text("SELECT word FROM ticket_search_words WHERE word = ANY(:w)")
        return set(s.scalars(found, {"w": list(words)}))


@pytest.fixture
def pg_store(store: Services) -> Services:
    if store.db.dialect != "postgresql":
        pytest.skip("SQLite's FTS5 has prefix indexes; the table is PostgreSQL's")
    return store


def test_a_note_on_an_old_ticket_is_found_by_its_new_words(pg_store: Services, monkeypatch) -> None:
    # The old ticket is below the recent window, so only the GIN pass finds it, through the
    # word forms the table holds: the note's forms must have been added as it was written.
    import helpdesk.ticket_search as ticket_search

    old, _ = open_ticket(pg_store, "a@example.rs", "Pitanje", "Dobar dan.")
    recent = [open_ticket(pg_store, f"r{i}@example.rs", "Taksa", "Taksa za pasoš.")[0] for i in range(2)]
    monkeypatch.setattr(ticket_search, "RECENT_TICKETS", 2)
    add_note(pg_store, old, Actor.system("test"), "Građanin traži duplikat vozačke dozvole.")
    with pg_store.db.session() as s:
        ref_of = dict(s.execute(select(Ticket.id, Ticket.reference)).all())
        assert [ref_of[i] for i in search_ticket_ids(s, "duplikat vozacka")] == [old]
        assert [ref_of[i] for i in search_ticket_ids(s, "DOZVOLA gradjanin")] == [old]
        assert {ref_of[i] for i in search_ticket_ids(s, "taksa")} == set(recent)
        assert search_ticket_ids(s, "duplikat zzzbezveze") == []  # a word in no ticket
    assert stored(pg_store, "duplikat", "vozacke", "dozvole") == {"duplikat", "vozacke", "dozvole"}


def test_an_erased_citizens_words_go(pg_store: Services) -> None:
    body = "Ja sam Milorad Zrnić iz Kuršumlije."
    _, contact_id = open_ticket(pg_store, "z@example.rs", "Žalba Zrnić", body)
    open_ticket(pg_store, "v@example.rs", "Žalba", "Ja sam iz Kraljeva.")
    assert stored(pg_store, "zrnic", "kursumlije", "zalba") == {"zrnic", "kursumlije", "zalba"}
    erase_contact(pg_store, contact_id, None, "Zahtev 15/2026")
    assert stored(pg_store, "zrnic", "milorad", "kursumlije", "zalba", "kraljeva") == {"zalba", "kraljeva"}
    with pg_store.db.session() as s:
        assert search_ticket_ids(s, "Zrnić") == []
