"""The admin pages through the test client: admins only, CSRF, validation, audit."""

from __future__ import annotations

import re

from sqlalchemy import select

from helpdesk.models import Agent, AuditEvent, Queue, TriageRoute
from helpdesk.tickets import (
    Actor,
    Identity,
    InboundMessage,
    merge_tickets,
    receive_inbound,
    set_queue,
    set_status,
)
from tests.conftest import csrf_token_from, login


def post(client, url, data, page=None):
    token = csrf_token_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_only_admins_reach_the_pages_and_forms_need_their_token(client, services):
    assert client.get("/admin/queues").status_code == 302  # to the login page
    login(client, services, "supervisor")
    assert client.get("/admin/queues").status_code == 403
    assert client.post("/admin/queues", data={"key": "x", "name_sr_latn": "X"}).status_code in (400, 403)
    assert "/admin" not in client.get("/supervisor").get_data(as_text=True)


def test_admin_manages_queues_agents_routes_and_hours(client, services):
    admin_id = login(client, services, "admin")
    assert 'href="/admin"' in client.get("/admin?lang=en").get_data(as_text=True)  # in the navigation

    refused = post(client, "/admin/queues?lang=sr-Latn", {"key": "Izbori!", "name_sr_latn": "Izbori"})
    assert refused.status_code == 400 and "mala slova" in refused.get_data(as_text=True)
    made = post(client, "/admin/queues", {"key": "elections", "name_sr_latn": "Izbori",
                                          "name_sr_cyrl": "", "name_en": "Elections"})
    assert made.status_code == 302
    renamed = post(client, "/admin/queues/elections",
                   {"name_sr_latn": "Izborni poslovi", "name_sr_cyrl": "", "name_en": "Election work"})
    assert renamed.status_code == 302
    listing = client.get("/admin/queues?lang=sr-Cyrl").get_data(as_text=True)
    assert "Изборни послови" in listing and "Election work" in listing

    created = post(client, "/admin/agents?lang=en", {"email": "mila@example.rs", "name": "Mila",
                                             "role": "agent", "queues": "elections"})
    page = created.get_data(as_text=True)
    assert created.status_code == 201 and "it is shown only now" in page
    password = page.split('class="admin-password">')[1].split("<")[0]
    assert len(password) >= 10 and password not in str(client.get_cookie("helpdesk_session"))
    with services.db.session() as s:
        mila = s.scalar(select(Agent).where(Agent.email == "mila@example.rs"))
        assert [q.name for q in mila.queues] == ["elections"]
        mila_id = mila.id
    url = f"/admin/agents/{mila_id}"
    changes = {"name": "Mila M", "role": "supervisor", "queues": ["elections", "triage"]}
    assert post(client, url, changes).status_code == 302
    assert post(client, f"{url}/active", {"active": "0"}, page=url).status_code == 302
    self_off = post(client, f"/admin/agents/{admin_id}/active", {"active": "0"}, page=url)
    assert self_off.status_code == 400

    routes = client.get("/admin/routes?lang=en").get_data(as_text=True)
    assert "Taxes" in routes and 'name="route-taxes"' in routes
    assert post(client, "/admin/routes", {"route-taxes": "elections"}).status_code == 302

    bad = post(client, "/admin/hours?lang=en", {"business_hours": "mon-fri 16:00-08:00",
                                                "holidays": "", "sla_targets": "normal=4h/16h"})
    assert bad.status_code == 400 and "cannot be used" in bad.get_data(as_text=True)
    good = post(client, "/admin/hours", {"business_hours": "mon-fri 07:30-15:30",
                                         "holidays": "2026-12-31", "sla_targets": "normal=4h/16h"})
    assert good.status_code == 302
    assert "31.12.2026" in client.get("/admin/hours").get_data(as_text=True)

    with services.db.session() as s:
        assert s.scalar(select(Queue.names).where(Queue.name == "elections"))["en"] == "Election work"
        assert s.get(TriageRoute, "taxes").queue == "elections"
        assert s.get(Agent, mila_id).active is False and s.get(Agent, mila_id).role == "supervisor"
        actions = {(a.action, a.actor_agent_id) for a in s.scalars(select(AuditEvent))}
    for action in ("queue.created", "queue.renamed", "agent.created", "agent.updated",
                   "agent.deactivated", "route.changed", "settings.business_hours", "settings.holidays"):
        assert (action, admin_id) in actions, action


def test_queues_page_shows_each_queues_open_tickets(client, services):
    """Open, pending and new tickets count; closed ones and tickets merged away do not."""
    actor = Actor.system("test")
    senders = [Identity("email", f"citizen{i}@example.rs") for i in range(5)]
    refs = [
        receive_inbound(services, InboundMessage("email", sender, "Porez", "Pitanje")).ticket_reference
        for sender in senders
    ]
    for ref in refs:
        set_queue(services, ref, actor, "payments")
    set_status(services, refs[1], actor, "pending")
    set_status(services, refs[2], actor, "closed")
    merge_tickets(services, refs[3], refs[0], actor)
    login(client, services, "admin")
    listing = client.get("/admin/queues?lang=en").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", listing, re.S)
    cells = {re.search(r'lang="en">([^<]+)<', r).group(1): re.findall(r"<td>(\d+)</td>", r) for r in rows
             if 'lang="en">' in r}
    assert cells["Payments and taxes"][1] == "3"  # refs 0, 1 (pending) and 4
    assert cells["Complaints"][1] == "0"
