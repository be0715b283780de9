"""Canned responses (editors manage, agents insert with placeholders filled), signatures per
language with the quoted original in email replies, automatic messages on the timeline, and
channel panels only on their channel's tickets."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path
from typing import Any

from sqlalchemy import select

from helpdesk import create_app
from helpdesk.models import Agent, AuditEvent, OutboxItem
from helpdesk.outbox import build_envelope
from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, reply_to_ticket, set_status
from tests.conftest import csrf_token_from, login, make_services, make_settings


def test_editors_manage_canned_responses_and_agents_get_them_filled(client: Any, services: Services) -> None:
    editor_id = login(client, services, "agent", email="urednik@helpdesk.test")
    with services.db.transaction() as s:
        s.get_one(Agent, editor_id).is_editor = True
    token = csrf_token_from(client.get("/console/canned/new").get_data(as_text=True))
    bad = client.post(
        "/console/canned/new?lang=en",
        data={"csrf_token": token, "title": "X", "shortcut": "Two words", "language": "sr-Cyrl", "body": "x"},
    )
    assert bad.status_code == 422 and "The shortcut is one word" in bad.get_data(as_text=True)
    unknown = client.post(
        "/console/canned/new?lang=en",
        data={"csrf_token": token, "title": "X", "shortcut": "x", "language": "sr-Cyrl", "body": "{jmbg}"},
    )
    assert unknown.status_code == 422 and "{citizen_name}" in unknown.get_data(as_text=True)
    made = client.post(
        "/console/canned/new",
        data={
            "csrf_token": token,
            "title": "Поздрав",
            "shortcut": "pozdrav",
            "language": "sr-Cyrl",
            "body": "Поштовани {citizen_name}, ваш захтев {reference} је примљен. {agent_name}",
        },
    )
    assert made.status_code == 302
    listing = client.get("/console/canned?q=pozdrav&lang=en").get_data(as_text=True)
    assert "Поздрав" in listing and "Edit" in listing
    assert "Поздрав" in client.get("/console/canned?q=Поздрав").get_data(as_text=True)

    # An agent (not an editor) reads and inserts, but cannot manage.
    agent = create_app(services.settings, services=services).test_client()
    agent_id = login(agent, services, "supervisor", email="ana@helpdesk.test")
    assert agent.get("/console/canned/new").status_code == 403
    canned_id = int(re.search(r"/console/canned/(\d+)/edit", listing).group(1))
    agent_token = csrf_token_from(agent.get("/console/canned").get_data(as_text=True))
    assert (
        agent.post(f"/console/canned/{canned_id}/delete", data={"csrf_token": agent_token}).status_code == 403
    )
    ref = receive_inbound(
        services,
        InboundMessage(
            channel="email",
            sender=Identity("email", "petar@example.rs"),
            sender_name="Петар",
            subject="Порез",
            text="Добар дан, имам питање о порезу.",
        ),
    ).ticket_reference
    page = agent.get(f"/console/tickets/{ref}").get_data(as_text=True)
    with services.db.session() as s:
        name = s.get_one(Agent, agent_id).name
    filled = f"Поштовани Петар, ваш захтев {ref} је примљен. {name}"
    assert f'data-text="{filled}"' in page
    with services.db.session() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor_agent_id == editor_id)).all()
    assert "canned.created" in actions
    assert client.post(f"/console/canned/{canned_id}/delete", data={"csrf_token": token}).status_code == 302
    assert "Поздрав" not in client.get("/console/canned").get_data(as_text=True)


def test_email_reply_carries_signature_and_the_quoted_original(tmp_path: Path) -> None:
    svc = make_services(make_settings(tmp_path, channels=("channels.email",)))
    app = create_app(svc.settings, services=svc)
    client = app.test_client()
    agent_id = login(client, svc, "agent", email="ana@helpdesk.test")
    token = csrf_token_from(client.get("/console/profile").get_data(as_text=True))
    saved = client.post(
        "/console/profile",
        data={
            "csrf_token": token,
            "signature-sr-Latn": "Ana Petrović\nKorisnička podrška",
            "signature-en": "",
        },
    )
    assert saved.status_code == 302
    assert "Ana Petrović" in client.get("/console/profile").get_data(as_text=True)
    ref = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "petar@example.rs"),
            sender_name="Петар Јовић",
            subject="Порез",
            text="Добар дан,\nимам питање о порезу.",
            script="cyrl",
            language="sr",
        ),
    ).ticket_reference
    reply_to_ticket(svc, ref, Actor.agent(agent_id), "Поштовани, решење стиже поштом.")
    with svc.db.session() as s:
        item = s.scalars(select(OutboxItem).where(OutboxItem.kind == "reply")).one()
        env = build_envelope(svc, s, item)
    msg, _, _ = svc.senders["email"].build(env)  # type: ignore[attr-defined]
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    body = parsed.get_content().replace("\r\n", "\n")
    # The Cyrillic ticket gets the Latin signature transliterated, after the "-- " separator.
    assert "решење стиже поштом.\n\n-- \nАна Петровић\nКорисничка подршка" in body
    # T0 is 09:00 UTC: 10:00 in Belgrade.
    assert "23.11.2026 10:00 CET, Петар Јовић пише:\n> Добар дан,\n> имам питање о порезу." in body


def test_automatic_messages_on_the_timeline_and_panels_only_on_their_channel(tmp_path: Path) -> None:
    svc = make_services(make_settings(tmp_path, channels=("channels.email", "channels.phone")))
    app = create_app(svc.settings, services=svc)
    client = app.test_client()
    login(client, svc, "supervisor")
    ref = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "petar@example.rs"),
            subject="Porez",
            text="Pitanje",
            wants_acknowledgement=True,
        ),
    ).ticket_reference
    set_status(svc, ref, Actor.system("test"), "resolved")
    page = client.get(f"/console/tickets/{ref}?lang=en").get_data(as_text=True)
    timeline = page[page.index('id="timeline"') :]
    assert "Acknowledgement of receipt" in timeline and "Satisfaction survey" in timeline
    assert timeline.count("Automatic message") == 2 and "queued" in timeline
    assert "Call back" not in page and 'id="phone-panel-title"' not in page  # an email ticket
    sms = receive_inbound(
        svc,
        InboundMessage(channel="sms", sender=Identity("phone", "+381641112233"), subject="", text="Zdravo"),
    ).ticket_reference
    assert 'id="phone-panel-title"' in client.get(f"/console/tickets/{sms}?lang=en").get_data(as_text=True)
