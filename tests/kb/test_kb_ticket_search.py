"""Agent ticket search with the database's full-text search, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text

from helpdesk.models import Message, Ticket
from helpdesk.services import Services
from helpdesk.ticket_index import sync_index
from helpdesk.ticket_search import apply_text_search, search_ticket_ids
from helpdesk.tickets import Actor, Identity, InboundMessage, add_note, receive_inbound


def open_ticket(svc: Services, sender: str, subject: str, text: str) -> str:
    msg = InboundMessage(channel="email", sender=Identity("email", sender), subject=subject, text=text)
    return receive_inbound(svc, msg).ticket_reference


def refs(svc: Services, q: str) -> list[str]:
    with svc.db.session() as s:
        stmt = apply_text_search(select(Ticket.reference), s, q)
        return sorted(s.scalars(stmt))


def test_every_spelling_finds_the_ticket(store: Services) -> None:
    tax = open_ticket(store, "a@example.rs", "Порез на имовину", "Решење о порезу није стигло.")
    eid = open_ticket(store, "b@example.rs", "Čitač kartice", "Sertifikat na ličnoj karti ne radi.")
    for q in ("porez", "ПОРЕЗ", "poreza", "resenje porezu", "Rešenje"):
        assert refs(store, q) == [tax], q
    for q in ("citac", "čitač", "читач", "licnoj karti", "sertifikat ne radi"):
        assert refs(store, q) == [eid], q
    assert refs(store, "porez sertifikat") == []  # all words must match


def test_messages_notes_and_references_are_searchable(store: Services) -> None:
    ref = open_ticket(store, "c@example.rs", "Pitanje", "Dobar dan.")
    add_note(store, ref, Actor.system("test"), "Građanin je zvao zbog đačke povlastice.")
    assert refs(store, "djacke povlastice") == [ref]
    assert refs(store, "gradjanin") == [ref]
    assert refs(store, ref) == [ref]
    assert refs(store, ref.lower()) == [ref]
    number = int(ref.rsplit("-", 1)[1])
    assert refs(store, str(number)) == [ref]  # the bare ticket number
    assert refs(store, f"pitanje {number}") == [ref]  # subject words and number together


def test_bad_queries_never_fail(store: Services) -> None:
    open_ticket(store, "d@example.rs", "Lozinka", "Zaboravio sam lozinku.")
    for q in ('"', "*", "AND OR NOT", "lozinka)", "NEAR(", "'; DROP TABLE tickets; --", "   "):
        with store.db.session() as s:
            s.scalars(apply_text_search(select(Ticket.id), s, q)).all()
            search_ticket_ids(s, q)
    assert len(refs(store, "lozinku")) == 1


def test_best_match_first(store: Services) -> None:
    weak = open_ticket(store, "e@example.rs", "Pitanje o uplati", "Kako da platim taksu?")
    strong = open_ticket(store, "f@example.rs", "Taksa taksa", "Taksa za pasoš, taksa za ličnu kartu.")
    with store.db.session() as s:
        ids = search_ticket_ids(s, "taksa", limit=10)
        ref_of = dict(s.execute(select(Ticket.id, Ticket.reference)).all())
    assert [ref_of[i] for i in ids] == [strong, weak]


def test_bulk_inserted_tickets_are_indexed_by_sync(store: Services) -> None:
    ref = open_ticket(store, "g@example.rs", "Prvi", "Tekst.")
    with store.db.transaction() as s:
        first = s.scalar(select(Ticket).where(Ticket.reference == ref))
        assert first is not None
        row = {c.name: getattr(first, c.name) for c in Ticket.__table__.columns}
        row.update(
            id=first.id + 100,
            reference="HD-2026-999999",
            reply_token="t" * 32,
            subject="Dečji dodatak",
        )
        s.execute(insert(Ticket), [row])
        s.execute(
            insert(Message),
            [
                {
                    "id": 10_000,
                    "ticket_id": first.id + 100,
                    "seq": 1,
                    "direction": "inbound",
                    "channel": "email",
                    "text": "Kada stiže rešenje za dečji dodatak?",
                    "created_at": first.created_at,
                }
            ],
        )
    assert refs(store, "decji dodatak") == []  # Core bulk insert bypasses the ORM hook
    with store.db.session() as s:
        assert sync_index(s) == 2
    assert refs(store, "decji dodatak") == ["HD-2026-999999"]
    assert refs(store, "kada stize") == ["HD-2026-999999"]


def test_merged_messages_are_found_on_the_target(store: Services) -> None:
    from helpdesk.tickets import merge_tickets

    source = open_ticket(store, "h@example.rs", "Dupli zahtev", "Vozačka dozvola nije stigla.")
    target = open_ticket(store, "i@example.rs", "Vozačka dozvola", "Gde je moja dozvola?")
    merge_tickets(store, source, target, Actor.system("test"))
    assert refs(store, "nije stigla") == [target]
    assert refs(store, "gde je moja") == [target]
    assert refs(store, "dupli zahtev") == [source]  # the merged ticket keeps its subject row


def test_api_ticket_search_uses_the_full_text_index(kb_client, services: Services) -> None:
    from helpdesk.auth.accounts import create_token
    from helpdesk.models import Agent
    from tests.conftest import add_agent

    tax = open_ticket(services, "j@example.rs", "Порез на имовину", "Решење о порезу није стигло.")
    open_ticket(services, "k@example.rs", "Lozinka", "Zaboravio sam lozinku.")
    agent_id = add_agent(services, "search-api@helpdesk.localhost", "admin")
    with services.db.transaction() as s:
        token = create_token(s, s.get_one(Agent, agent_id), services.clock.now())
    headers = {"Authorization": f"Bearer {token}"}
    for q in ("poreza", "ПОРЕЗ", "resenje o porezu"):
        body = kb_client.get("/api/v1/tickets", query_string={"q": q}, headers=headers).get_json()
        assert body["total"] == 1 and [t["reference"] for t in body["tickets"]] == [tax], q
    body = kb_client.get("/api/v1/tickets", query_string={"q": '"*) NEAR('}, headers=headers)
    assert body.status_code == 200 and body.get_json()["total"] == 0


def test_ranked_search_scores_only_the_newest_matches(store: Services, monkeypatch) -> None:
    # Bounded cost: at most RANK_WINDOW matching rows are ranked, the newest; best first among them.
    import helpdesk.ticket_search as ticket_search

    old_strong = open_ticket(store, "g@example.rs", "Taksa taksa taksa", "Taksa, taksa i opet taksa.")
    newer = [open_ticket(store, f"h{i}@example.rs", "Pitanje", f"Jedna taksa, broj {i}.") for i in range(3)]
    newest_strong = open_ticket(store, "i@example.rs", "Taksa taksa", "Taksa za pasoš i taksa za kartu.")
    monkeypatch.setattr(ticket_search, "RANK_WINDOW", 4)
    with store.db.session() as s:
        ref_of = dict(s.execute(select(Ticket.id, Ticket.reference)).all())
        found = [ref_of[i] for i in search_ticket_ids(s, "taksa", limit=10)]
    assert found[0] == newest_strong
    assert old_strong not in found and set(found) <= {newest_strong, *newer}


def ranked(svc: Services, q: str) -> list[str]:
    with svc.db.session() as s:
        ref_of = dict(s.execute(select(Ticket.id, Ticket.reference)).all())
        return [ref_of[i] for i in search_ticket_ids(s, q, limit=10)]


def test_long_words_and_word_beginnings(store: Services) -> None:
    # SQLite indexes prefixes of 3 to 6 letters; a longer stem ("reklamacij") is its own prefix
    # query and must not find the shorter word it starts with ("reklama").
    claim = open_ticket(store, "l@example.rs", "Рекламација рачуна", "Žalim se na obračun struje.")
    ads = [open_ticket(store, f"m{i}@example.rs", "Reklama", f"Reklama na portalu {i}.") for i in range(4)]
    for q in ("reklamacija", "reklamacije", "РЕКЛАМАЦИЈУ", "reklamacija racuna", "obracun", "ОБРАЧУН"):
        assert ranked(store, q) == [claim], q
    assert set(ranked(store, "rekla")) == {claim, *ads}  # a word being typed: every match
    assert set(ranked(store, "portal")) == set(ads)
    assert ranked(store, "sertifikat") == []


def test_rare_words_are_found_in_old_tickets(store: Services, monkeypatch) -> None:
    # PostgreSQL reads the newest RECENT_TICKETS tickets' rows one by one and asks the GIN index
    # for a word rare among them (or, of several words, rare in the newest SAMPLE_ROWS rows) or
    # when they fill less than FILL_TICKETS; a query of common words that fills a page stays recent.
    import helpdesk.ticket_search as ticket_search

    old = open_ticket(store, "r@example.rs", "Porez na imovinu", "Pitanje o porezu.")
    recent = [open_ticket(store, f"s{i}@example.rs", "Pitanje", f"Pitanje broj {i}.") for i in range(3)]
    monkeypatch.setattr(ticket_search, "RECENT_TICKETS", 2)
    monkeypatch.setattr(ticket_search, "FILL_TICKETS", 2)
    monkeypatch.setattr(ticket_search, "RARE_IN_SAMPLE", 2)  # "porez": subject and message
    assert ranked(store, "porezu") == [old]
    assert ranked(store, "ПИТАЊЕ порез") == [old]  # "porez" is the rare word of the two
    if store.db.dialect == "postgresql":
        assert set(ranked(store, "pitanje")) == set(recent[1:])  # the newest 2 tickets' rows
    else:
        assert set(ranked(store, "pitanje")) == {old, *recent}


def _words_meeting_only_in_an_old_ticket(store: Services, monkeypatch) -> tuple[str, list[str]]:
    """An old ticket holding "hitno" and "pasoš" together; the newest two hold each word apart,
    twice, so neither word is rare among the recent rows (the common-words path on PostgreSQL)."""
    import helpdesk.ticket_search as ticket_search

    old = open_ticket(store, "p@example.rs", "Hitno: pasoš", "Pasoš je istekao, hitno je.")
    urgent = open_ticket(store, "q@example.rs", "Hitno", "Hitno, molim odgovor.")
    passport = open_ticket(store, "t@example.rs", "Pasoš", "Pasoš za dete.")
    monkeypatch.setattr(ticket_search, "RECENT_TICKETS", 2)
    monkeypatch.setattr(ticket_search, "RARE_IN_SAMPLE", 1)
    return old, [urgent, passport]


def test_common_words_meeting_only_in_an_old_ticket(store: Services, monkeypatch) -> None:
    # Each word is common in the newest tickets, together they are only in an old one: the
    # recent rows fill less than a page, so the index is asked for older rows too.
    import helpdesk.ticket_search as ticket_search

    old, recent = _words_meeting_only_in_an_old_ticket(store, monkeypatch)
    assert ranked(store, "hitno pasoš") == [old]
    assert ranked(store, "ПАСОШ hitno") == [old]
    assert set(ranked(store, "hitno")) == {old, recent[0]}
    if store.db.dialect == "postgresql":
        monkeypatch.setattr(ticket_search, "FILL_TICKETS", 0)  # recent rows only: the old case is lost
        assert ranked(store, "hitno pasoš") == []


def test_older_matches_timing_out_keep_the_recent_ones(store: Services, monkeypatch) -> None:
    # The older rows' query is cut off by its own statement_timeout; the recent matches stay, the
    # session's transaction stays usable and keeps its own timeout.
    import helpdesk.ticket_search as ticket_search

    if store.db.dialect != "postgresql":
        pytest.skip("SQLite reads every match from FTS5; no second pass to time out")
    old, recent = _words_meeting_only_in_an_old_ticket(store, monkeypatch)
    slow = text(
        "SELECT 0, 0, 0.0 FROM pg_sleep(30) "
        "WHERE :q <> '' AND :rare <> '' AND CAST(:below AS bigint) > 0 AND CAST(:w AS int) > 0"
    )
    monkeypatch.setattr(ticket_search, "_BY_RARE_WORD", slow)
    monkeypatch.setattr(ticket_search, "OLDER_TIMEOUT_MS", 50)
    with store.db.session() as s:
        before = s.execute(text("SHOW statement_timeout")).scalar()
        ref_of = dict(s.execute(select(Ticket.id, Ticket.reference)).all())
        assert [ref_of[i] for i in search_ticket_ids(s, "hitno", limit=10)] == [recent[0]]
        assert search_ticket_ids(s, "hitno pasoš", limit=10) == []
        assert s.execute(text("SHOW statement_timeout")).scalar() == before
        assert s.scalar(select(Ticket.reference).where(Ticket.reference == old)) == old
