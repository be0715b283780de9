"""Callbacks from the chat (Socket.IO) and the callback page in every language (HTTP); the
citizen's accommodations atop the ticket, edited by an agent and audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.models import AuditEvent, Callback, ContactIdentity, Ticket
from helpdesk.services import Services
from tests.conftest import csrf_token_from, login, make_services, make_settings

CHANNELS = ("channels.chat", "channels.web")


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    services = make_services(make_settings(tmp_path, channels=CHANNELS))  # Monday 10:00 in Belgrade
    yield services
    services.db.dispose()


@pytest.fixture
def app(svc: Services) -> Any:
    return create_app(svc.settings, services=svc)


def chat(app: Any) -> Any:
    sock = app.extensions["socketio"].test_client(app, namespace="/chat")
    assert sock.emit("hello", {"language": "en"}, namespace="/chat", callback=True)["ok"]
    return sock


def test_chat_callback_joins_the_conversation(app: Any, svc: Services) -> None:
    sock = chat(app)
    said = sock.emit(
        "message",
        {"client_id": "abcdefgh12", "text": "Ne radi mi prijava", "language": "en"},
        namespace="/chat",
        callback=True,
    )
    offered = sock.emit("callback_windows", {"language": "en"}, namespace="/chat", callback=True)
    today = offered["days"][0]
    assert today["day"] == "Today, Monday 23 November"
    assert [w["hours"] for w in today["windows"]] == ["10:00–12:00", "12:00–14:00", "14:00–16:00"]
    assert offered["days"][1]["day"] == "Tomorrow, Tuesday 24 November"
    key = today["windows"][1]["key"]

    def ask(**payload: Any) -> dict[str, Any]:
        return dict(sock.emit("callback", {"language": "en", **payload}, namespace="/chat", callback=True))

    assert ask(phone="not a number", windows=[key])["error"]["code"] == "bad_phone"
    assert ask(phone="064 123 4567", windows=[])["error"]["code"] == "no_window"
    assert ask(phone="064 123 4567", windows=["1700000000"])["error"]["code"] == "stale_window"
    done = ask(phone="064 123 4567", windows=[key], accommodations=["plain_language", "nonsense"])
    assert done["ok"] and done["reference"] == said["reference"]  # the same conversation
    assert done["when"] == "Today, Monday 23 November 12:00–14:00"
    with svc.db.session() as s:
        callback = s.scalars(select(Callback)).one()
        ticket = s.get_one(Ticket, callback.ticket_id)
        assert (callback.source, callback.phone, ticket.channel) == ("chat", "+381641234567", "chat")
        phones = s.scalars(select(ContactIdentity.value).where(ContactIdentity.kind == "phone")).all()
        assert phones == ["+381641234567"]  # the number is on the contact now
    sock.disconnect(namespace="/chat")


def test_accommodations_atop_the_ticket_edited_by_an_agent(app: Any, svc: Services) -> None:
    sock = chat(app)
    offered = sock.emit("callback_windows", {"language": "en"}, namespace="/chat", callback=True)
    key = offered["days"][0]["windows"][0]["key"]
    done = sock.emit(
        "callback",
        {"phone": "+381641234567", "windows": [key], "accommodations": ["screen_reader", "plain_language"]},
        namespace="/chat",
        callback=True,
    )
    reference = done["reference"]
    agent = app.test_client()
    login(agent, svc, "supervisor")
    page = agent.get(f"/console/tickets/{reference}?lang=en").get_data(as_text=True)
    top = page[: page.index('id="timeline"')]  # shown above the conversation
    assert "Uses a screen reader" in top and "Needs plain language" in top
    assert 'href="tel:+381641234567"' in page and "No answer: retry later" in page  # the panel
    token = csrf_token_from(page)
    response = agent.post(
        f"/console/tickets/{reference}/accommodations",
        data={"csrf_token": token, "accommodation": ["screen_reader", "cyrillic"]},
    )
    assert response.status_code == 302
    page = agent.get(f"/console/tickets/{reference}?lang=en").get_data(as_text=True)
    badges = re.findall(r'<li class="badge accommodation[^"]*">([^<]+)</li>', page)
    assert badges == ["Uses a screen reader", "Prefers Cyrillic"]
    with svc.db.session() as s:
        changes = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "contact.accommodations").order_by(AuditEvent.id)
        ).all()
        assert [(c.actor_kind, (c.after or {})["accommodations"]) for c in changes] == [
            ("contact", ["screen_reader", "plain_language"]),
            ("agent", ["screen_reader", "cyrillic"]),
        ]
    # Without the CSRF token nothing changes.
    assert agent.post(f"/console/tickets/{reference}/accommodations", data={}).status_code == 400


@pytest.mark.parametrize(
    ("lang", "title", "today"),
    [
        ("sr-Latn", "Zatražite da vas pozovemo", "Danas, ponedeljak"),
        ("sr-Cyrl", "Затражите да вас позовемо", "Данас, понедељак"),
    ],
)
def test_callback_page_in_serbian(app: Any, svc: Services, lang: str, title: str, today: str) -> None:
    client = app.test_client()
    page = client.get(f"/callback?lang={lang}").get_data(as_text=True)
    assert f"<h1>{title}</h1>" in page and today in page
    token = csrf_token_from(page)
    refused = client.post(f"/callback?lang={lang}", data={"csrf_token": token, "phone": "064 123 4567"})
    assert refused.status_code == 422
    with svc.db.session() as s:
        assert s.scalars(select(Callback)).all() == []
    key = re.search(r'name="window" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    sent = client.post(
        f"/callback?lang={lang}",
        data={"csrf_token": token, "phone": "064 123 4567", "window": key, "consent": "yes"},
    )
    assert sent.status_code == 303
    assert "10:00–12:00" in client.get(sent.headers["Location"]).get_data(as_text=True)


def test_contact_form_can_ask_for_a_call_instead(app: Any, svc: Services) -> None:
    client = app.test_client()
    page = client.get("/contact?lang=en").get_data(as_text=True)
    assert "Prefer a call? Choose when we may call you" in page
    token = csrf_token_from(page)
    keys = re.findall(r'name="window" value="(\d+)"', page)
    form = {
        "csrf_token": token,
        "consent": "yes",
        "name": "Jovan",
        "subject": "Pasoš",
        "message": "Kada mogu da podignem pasoš?",
        "email": "jovan@example.rs",
    }
    refused = client.post("/contact?lang=en", data={**form, "window": keys[2]})
    assert refused.status_code == 422
    assert "To be called back, give a phone number." in refused.get_data(as_text=True)
    sent = client.post(
        "/contact?lang=en",
        data={
            **form,
            "phone": "065 222 3344",
            "window": [keys[2], keys[5]],
            "accommodation": "sign_language",
        },
    )
    assert sent.status_code == 303
    confirmation = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "An agent calls you: Today, Monday 23 November 14:00–16:00." in confirmation
    with svc.db.session() as s:
        callback = s.scalars(select(Callback)).one()
        ticket = s.get_one(Ticket, callback.ticket_id)
        assert ticket.reference in confirmation and ticket.channel == "web"
        assert len(ticket.messages) == 2  # the message, then the call request on the same ticket
        assert (callback.phone, len(callback.windows)) == ("+381652223344", 2)
    plain = client.post(
        "/contact?lang=en",
        data={**form, "email": "mila@example.rs", "accommodation": ["plain_language"]},
    )
    assert plain.status_code == 303
    with svc.db.session() as s:
        assert len(s.scalars(select(Callback)).all()) == 1  # no call asked: no callback
        added = s.scalars(select(AuditEvent).where(AuditEvent.action == "contact.accommodations")).all()
        assert [(a.after or {})["accommodations"] for a in added] == [["sign_language"], ["plain_language"]]


def test_cli_lists_the_waiting_callbacks(app: Any, svc: Services) -> None:
    sock = chat(app)
    offered = sock.emit("callback_windows", {"language": "en"}, namespace="/chat", callback=True)
    key = offered["days"][0]["windows"][0]["key"]
    sock.emit("callback", {"phone": "0641234567", "windows": [key]}, namespace="/chat", callback=True)
    out = app.test_cli_runner().invoke(args=["callback", "list"]).output
    assert "2026-11-23 10:00-12:00  due" in out and "+381641234567  chat  attempts 0" in out
