"""The console pages rendered by the Flask test client: timeline across channels, odd input."""

from __future__ import annotations

import re
from typing import Any

from helpdesk.auth.accounts import hash_password
from helpdesk.models import Agent
from helpdesk.services import Services
from helpdesk.tickets import (
    Actor,
    AttachmentIn,
    Identity,
    InboundMessage,
    add_note,
    receive_inbound,
    reply_to_ticket,
)


def log_in(client: Any, svc: Services, role: str = "supervisor") -> int:
    with svc.db.transaction() as s:
        agent = Agent(
            email=f"{role}@helpdesk.test",
            name="Sara Jović",
            role=role,
            password_hash=hash_password("correct horse battery"),
        )
        s.add(agent)
        s.flush()
        agent_id = agent.id
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(
        "/login",
        data={"csrf_token": token, "email": f"{role}@helpdesk.test", "password": "correct horse battery"},
    )
    assert r.status_code in (302, 303)
    return agent_id


def test_ticket_view_shows_the_whole_timeline_across_channels(client: Any, services: Services) -> None:
    agent_id = log_in(client, services)
    result = receive_inbound(
        services,
        InboundMessage(
            channel="email",
            sender=Identity("email", "petar@example.rs"),
            sender_name="Petar",
            subject="Rešenje o porezu <script>",
            text="U prilogu je rešenje.",
            attachments=(AttachmentIn("resenje.pdf", "application/pdf", b"%PDF-1.4 test"),),
        ),
    )
    ref = result.ticket_reference
    reply_to_ticket(services, ref, Actor.agent(agent_id), "Hvala, proveravamo.")
    add_note(services, ref, Actor.agent(agent_id), "Pozvati Poresku upravu.")

    board = client.get("/console").get_data(as_text=True)
    assert ref in board and "Rešenje o porezu &lt;script&gt;" in board  # escaped, never raw

    page = client.get(f"/console/tickets/{ref}?lang=en").get_data(as_text=True)
    for text in ("U prilogu je rešenje.", "Hvala, proveravamo.", "Pozvati Poresku upravu."):
        assert text in page
    assert re.search(r'<a href="/attachments/[A-Za-z0-9_-]{22}" download>resenje.pdf</a>', page)
    assert "Internal note" in page and "Sara Jović" in page

    after_first = client.get(f"/console/tickets/{ref}/timeline?after=1").get_data(as_text=True)
    assert "U prilogu je rešenje." not in after_first and "Hvala, proveravamo." in after_first


def test_odd_input_never_breaks_the_console(client: Any, services: Services) -> None:
    log_in(client, services)
    assert client.get("/console?status=bogus&channel=fax&queue=" + "x" * 500).status_code == 200
    assert client.get("/console/board?mine=1&unassigned=1").status_code == 200
    assert client.get("/console/tickets/HD-0000-000000").status_code == 404
    assert client.get("/console/tickets/%3Cscript%3E/timeline?after=abc").status_code == 404


def test_an_agent_outside_the_queue_gets_403(client: Any, services: Services) -> None:
    result = receive_inbound(
        services,
        InboundMessage(
            channel="email", sender=Identity("email", "a@example.rs"), subject="Pitanje", text="Pitanje"
        ),
    )
    log_in(client, services, role="agent")  # in no queue at all
    assert client.get(f"/console/tickets/{result.ticket_reference}").status_code == 403
    assert result.ticket_reference not in client.get("/console").get_data(as_text=True)
