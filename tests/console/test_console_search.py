"""Console search, the list (sorting, true total, pages, saved views) and local times, over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

import helpdesk.ticket_search as ticket_search
from helpdesk import create_app
from helpdesk.models import Agent, Queue, Ticket
from helpdesk.services import Services
from helpdesk.tickets import Identity, InboundMessage, receive_inbound
from tests.conftest import PASSWORD, T0, add_agent, csrf_token_from, login


def inbound(
    svc: Services, sender: Identity, subject: str, text: str, name: str | None = None, channel: str = "email"
) -> str:
    return receive_inbound(
        svc, InboundMessage(channel=channel, sender=sender, sender_name=name, subject=subject, text=text)
    ).ticket_reference


def refs(html: str) -> list[str]:
    """The ticket references in list order."""
    return re.findall(r'data-reference="([^"]+)"', html)


@pytest.fixture
def web(store: Services) -> Any:
    return create_app(store.settings, services=store).test_client()


def test_one_box_finds_by_reference_email_phone_name_and_words_in_any_script(
    web: Any, store: Services
) -> None:
    login(web, store, "supervisor")
    tax = inbound(
        store,
        Identity("email", "petar.jovic@example.rs"),
        "Порез на имовину",
        "Добио сам решење о порезу за стан.",
        name="Петар Јовић",
    )
    phone = inbound(
        store, Identity("phone", "+381641234567"), "Poziv", "Zvao sam zbog lozinke.", channel="phone"
    )
    other = inbound(
        store,
        Identity("email", "mila@example.rs"),
        "eUprava nalog",
        "Ne mogu da se prijavim.",
        name="Mila Ilić",
    )

    def search(q: str, **extra: str) -> list[str]:
        response = web.get("/console", query_string={"q": q, "status": "", **extra})
        assert response.status_code == 200
        return refs(response.get_data(as_text=True))

    assert search(tax) == [tax]
    assert search(tax.lower()) == [tax]
    assert search("petar.jovic@example.rs") == [tax]
    assert search("PETAR.JOVIC@example.rs") == [tax]
    assert search("064 123 4567") == [phone]
    assert search("+381 64 1234567") == [phone]
    assert search("petar") == [tax]  # a Cyrillic name typed in Latin
    assert search("Petar Jovic") == [tax]  # ... and without diacritics
    assert search("porez") == [tax]  # a Cyrillic word, Latin, no diacritics
    assert search("resenje") == [tax]  # "решење": Latin without diacritics
    assert search("lozinke") == [phone]
    assert search("nista takvo") == []
    # Filters are kept with the search: the same words, only email tickets.
    assert search("zvao", channel="email") == []
    assert search("zvao", channel="phone") == [phone]
    assert other not in search("porez")
    page = web.get("/console", query_string={"q": "porez"}).get_data(as_text=True)
    assert 'value="porez"' in page  # the box keeps what was typed
    assert 'aria-keyshortcuts="/"' in page


def test_search_respects_the_agents_queues(web: Any, store: Services) -> None:
    hidden = inbound(store, Identity("email", "ana@example.rs"), "Porez", "Pitanje o porezu.")
    agent_id = add_agent(store, "vesna@helpdesk.test", name="Vesna")
    with store.db.transaction() as s:
        taxes = Queue(name="taxes", title="Taxes")
        taxes.members.append(s.get_one(Agent, agent_id))
        s.add(taxes)
    token = csrf_token_from(web.get("/login").get_data(as_text=True))
    web.post("/login", data={"email": "vesna@helpdesk.test", "password": PASSWORD, "csrf_token": token})
    assert refs(web.get("/console?q=porez&status=").get_data(as_text=True)) == []
    assert refs(web.get(f"/console?q={hidden}&status=").get_data(as_text=True)) == []
    with store.db.transaction() as s:
        s.execute(update(Ticket).where(Ticket.reference == hidden).values(queue="taxes"))
    assert refs(web.get("/console?q=porez&status=").get_data(as_text=True)) == [hidden]


def test_list_sorts_by_due_with_overdue_first_counts_all_and_pages(
    client: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, services, "supervisor")
    made = [
        inbound(services, Identity("email", f"c{i}@example.rs"), f"Pitanje {i}", f"Tekst {i}")
        for i in range(7)
    ]
    dues = {
        made[0]: T0 + timedelta(hours=5),
        made[1]: T0 - timedelta(hours=3),
        made[2]: T0 + timedelta(hours=1),
        made[3]: None,
        made[4]: T0 - timedelta(hours=1),
        made[5]: T0 + timedelta(days=2),
        made[6]: T0 + timedelta(days=3),
    }
    with services.db.transaction() as s:
        for ref, due in dues.items():
            s.execute(
                update(Ticket)
                .where(Ticket.reference == ref)
                .values(first_response_due_at=due, resolution_due_at=due, sla_breached_at=None)
            )
    monkeypatch.setattr("helpdesk.console.listing.PER_PAGE", 3)
    first = client.get("/console").get_data(as_text=True)
    assert refs(first) == [made[1], made[4], made[2]]  # overdue first, then the soonest due
    assert "7 tickets" in first or "7 tiketa" in first  # the true total, not the page size
    assert 'aria-sort="ascending"' in first and "Page 1 of 3" in first or "Strana 1 od 3" in first
    third = client.get("/console?page=3").get_data(as_text=True)
    assert refs(third) == [made[3]]  # no deadline: last
    by_due_desc = client.get("/console?sort=due&dir=desc").get_data(as_text=True)
    assert refs(by_due_desc) == [made[6], made[5], made[0]]
    assert 'aria-sort="descending"' in by_due_desc
    by_ref = client.get("/console?sort=reference&lang=en").get_data(as_text=True)
    assert refs(by_ref) == made[:3]
    overdue = client.get("/console?overdue=1").get_data(as_text=True)
    assert sorted(refs(overdue)) == sorted([made[1], made[4]])


def test_saved_views_belong_to_their_agent(client: Any, services: Services) -> None:
    login(client, services, "agent", email="ana@helpdesk.test")
    page = client.get("/console?lang=en").get_data(as_text=True)
    assert "My overdue" in page and "Unassigned chat" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    saved = client.post(
        "/console/views",
        data={"csrf_token": token, "name": "Chat urgent", "query": "channel=chat&status=new&bogus=1&page=4"},
    )
    assert saved.status_code == 302
    page = client.get("/console?lang=en").get_data(as_text=True)
    link = re.search(r'<a href="(/console/?\?[^"]*)"[^>]*>Chat urgent</a>', page)
    assert link and "channel=chat" in link.group(1)
    assert "bogus" not in link.group(1) and "page" not in link.group(1)
    assert (
        client.post("/console/views", data={"csrf_token": token, "name": " ", "query": ""}).status_code == 302
    )
    view_id = int(re.search(r"/console/views/(\d+)/delete", page).group(1))
    assert client.post("/console/views", data={"name": "x", "query": ""}).status_code == 400  # CSRF

    other = create_app(services.settings, services=services).test_client()
    login(other, services, "agent", email="boris@helpdesk.test")
    assert "Chat urgent" not in other.get("/console").get_data(as_text=True)
    other_page = other.get("/console").get_data(as_text=True)
    token_b = re.search(r'name="csrf_token" value="([^"]+)"', other_page).group(1)
    assert other.post(f"/console/views/{view_id}/delete", data={"csrf_token": token_b}).status_code == 404
    assert client.post(f"/console/views/{view_id}/delete", data={"csrf_token": token}).status_code == 302
    assert "Chat urgent" not in client.get("/console").get_data(as_text=True)


def test_times_are_shown_in_belgrade_with_the_zone(client: Any, services: Services) -> None:
    login(client, services, "supervisor")
    ref = inbound(services, Identity("email", "z@example.rs"), "Vreme", "Kada?")
    services.clock.advance(minutes=5)  # type: ignore[attr-defined]
    page = client.get(f"/console/tickets/{ref}?lang=en").get_data(as_text=True)
    # T0 is 09:00 UTC on 23 Nov 2026: 10:00 in Belgrade (CET, UTC+1).
    assert re.search(r'<time class="when" datetime="2026-11-23T09:00:00Z" title="23.11.2026 10:00 CET"', page)
    assert ">5 minutes ago</time>" in page
    assert "Europe/Belgrade (CET)" in page
    assert " UTC<" not in page
    board = client.get("/console?lang=sr-Latn").get_data(as_text=True)
    assert "pre 5 minuta" in board and "23.11.2026 10:00 CET" in board


def test_search_says_when_older_matches_may_be_missing(
    web: Any, store: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL: the recent tickets fill less than a page, the older rows' query is cut off by its
    # statement_timeout (made to sleep here): the recent match is listed and the page says so.
    if store.db.dialect != "postgresql":
        pytest.skip("SQLite reads every match from FTS5; no second pass to time out")
    login(web, store, "supervisor")
    old = inbound(store, Identity("email", "p@example.rs"), "Hitno: pasoš", "Pasoš je istekao.")
    recent = inbound(store, Identity("email", "q@example.rs"), "Hitno", "Hitno, molim odgovor.")
    monkeypatch.setattr(ticket_search, "RECENT_TICKETS", 1)
    page = web.get("/console", query_string={"q": "hitno", "status": ""}).get_data(as_text=True)
    assert sorted(refs(page)) == sorted([old, recent]) and 'id="search-incomplete"' not in page
    slow = text(
        "SELECT 0, 0, 0.0 FROM pg_sleep(30) "
        "WHERE :q <> '' AND :rare <> '' AND CAST(:below AS bigint) > 0 AND CAST(:w AS int) > 0"
    )
    monkeypatch.setattr(ticket_search, "_BY_RARE_WORD", slow)
    monkeypatch.setattr(ticket_search, "OLDER_TIMEOUT_MS", 50)
    page = web.get("/console", query_string={"q": "hitno", "status": ""}).get_data(as_text=True)
    assert refs(page) == [recent] and 'id="search-incomplete"' in page
    page = web.get("/console", query_string={"q": "hitno", "status": "", "lang": "sr-Latn"})
    assert "Stariji tiketi koji odgovaraju pretrazi možda nedostaju" in page.get_data(as_text=True)
