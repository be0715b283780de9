"""Contact context and merging from the console, the API and the CLI; linking related tickets."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.auth.accounts import create_token
from helpdesk.cli import cli
from helpdesk.models import Agent, AuditEvent, Contact, Queue, Ticket
from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, reply_to_ticket
from tests.conftest import add_agent, csrf_token_from, login


def inbound(svc: Services, sender: Identity, subject: str, text: str, channel: str = "email") -> str:
    msg = InboundMessage(channel=channel, sender=sender, sender_name="Petar", subject=subject, text=text)
    return receive_inbound(svc, msg).ticket_reference


def csrf(client: Any, url: str) -> str:
    return csrf_token_from(client.get(url).get_data(as_text=True))


def test_contact_panel_preview_and_merge_join_the_timeline(client: Any, services: Services) -> None:
    agent_id = login(client, services, "agent", email="ana@helpdesk.test")
    with services.db.transaction() as s:
        triage = s.scalar(select(Queue).where(Queue.name == "triage"))
        triage.members.append(s.get_one(Agent, agent_id))
    first = inbound(services, Identity("email", "petar@example.rs"), "Lozinka", "Zaboravio sam lozinku.")
    services.clock.advance(minutes=10)  # type: ignore[attr-defined]
    reply_to_ticket(services, first, Actor.agent(agent_id), "Pošaljite nam korisničko ime.")
    services.clock.advance(minutes=10)  # type: ignore[attr-defined]
    second = inbound(services, Identity("phone", "+381641112233"), "Poziv", "Zvao sam za lozinku.", "phone")
    with services.db.transaction() as s:  # the same citizen, known by both addresses
        contact_id = s.scalar(select(Ticket.contact_id).where(Ticket.reference == first))
        s.execute(Ticket.__table__.update().where(Ticket.reference == second).values(contact_id=contact_id))
    third = inbound(services, Identity("email", "petar@example.rs"), "Porez", "Drugo pitanje", "email")
    with services.db.transaction() as s:
        s.execute(Ticket.__table__.update().where(Ticket.reference == third).values(queue="payments"))

    page = client.get(f"/console/tickets/{first}?lang=en").get_data(as_text=True)
    assert "This contact" in page, page[:3000]
    others = page[page.index("This contact") :]
    assert second in others and "Phone" in others  # another channel, same citizen
    assert third not in others and "1 more in queues you don" in others  # not her queue: counted only
    assert "Merge another contact" not in page  # supervisors only

    preview = client.get(f"/console/tickets/{second}/merge?into={first}&lang=en").get_data(as_text=True)
    assert "1 message moves from" in preview and f"{second} is closed and points to {first}" in preview
    bad = client.get(f"/console/tickets/{second}/merge?into=HD-2099-999999&lang=en")
    assert "There is no ticket HD-2099-999999" in bad.get_data(as_text=True)
    assert client.get(f"/console/tickets/{second}/merge?into={third}").status_code == 403

    token = csrf(client, f"/console/tickets/{second}/merge?into={first}")
    assert client.post(f"/console/tickets/{second}/merge", data={"into": first}).status_code == 400  # CSRF
    done = client.post(f"/console/tickets/{second}/merge", data={"into": first, "csrf_token": token})
    assert done.status_code == 302 and done.location.endswith(f"/console/tickets/{first}")
    joined = client.get(f"/console/tickets/{first}?lang=en").get_data(as_text=True)
    texts = ["Zaboravio sam lozinku.", "Pošaljite nam korisničko ime.", "Zvao sam za lozinku."]
    positions = [joined.index(t) for t in texts]
    assert positions == sorted(positions)  # one timeline, in the order things happened
    old = client.get(f"/console/tickets/{second}?lang=en")
    assert old.status_code == 302 and old.location.endswith(f"/console/tickets/{first}")
    assert f"{second} was merged into {first}" in client.get(old.location + "?lang=en").get_data(as_text=True)
    # An open page of the merged ticket catches up from its fields: told it was merged.
    assert client.get(f"/console/tickets/{second}/fields").json == {"merged": True}
    fields = client.get(f"/console/tickets/{first}/fields").json
    assert fields["status"] == "open" and fields["queue"] == "triage" and fields["assignee_id"] is None
    assert client.get(f"/console/tickets/{third}/fields").status_code == 403  # not her queue
    with services.db.session() as s:
        audit = s.scalars(select(AuditEvent.action).where(AuditEvent.actor_agent_id == agent_id)).all()
    assert "ticket.merged" in audit and "ticket.merged_from" in audit

    # Related tickets: linked, shown, audited; a ticket she can't see or nonsense is refused.
    fourth = inbound(services, Identity("email", "mila@example.rs"), "Isti problem", "I meni lozinka.")
    token = csrf(client, f"/console/tickets/{first}")
    link = f"/console/tickets/{first}/link"
    assert client.post(link, data={"related": third, "csrf_token": token}).status_code == 403
    assert client.post(link, data={"related": fourth, "csrf_token": token}).status_code == 302
    assert f"Open the related ticket {fourth}" in client.get(f"/console/tickets/{first}?lang=en").get_data(
        as_text=True
    )
    client.post(link, data={"related": "nonsense", "csrf_token": token})
    with services.db.session() as s:
        related = s.scalar(select(Ticket.related_ticket_id).where(Ticket.reference == first))
        assert related == s.scalar(select(Ticket.id).where(Ticket.reference == fourth))
        assert "ticket.linked" in s.scalars(select(AuditEvent.action)).all()
    client.post(link, data={"related": "", "csrf_token": token})
    with services.db.session() as s:
        assert s.scalar(select(Ticket.related_ticket_id).where(Ticket.reference == first)) is None


def test_supervisor_merges_contacts_with_a_preview(client: Any, services: Services) -> None:
    login(client, services, "supervisor")
    a = inbound(services, Identity("email", "petar@example.rs"), "Jedan", "Prvi")
    b = inbound(services, Identity("phone", "+381641112233"), "Dva", "Drugi", "phone")
    with services.db.session() as s:
        target = s.scalar(select(Ticket.contact_id).where(Ticket.reference == a))
        source = s.scalar(select(Ticket.contact_id).where(Ticket.reference == b))
    url = f"/console/contacts/{target}/merge"
    page = client.get(f"{url}?other=064+111+2233&back={a}&lang=en").get_data(as_text=True)
    assert "+381641112233" in page and f"1 ticket moves to this contact. ({b})" in page
    assert "No contact has that" in client.get(f"{url}?other=nobody@x.rs&lang=en").get_data(as_text=True)
    token = csrf(client, url)
    done = client.post(url, data={"other": str(source), "back": a, "csrf_token": token})
    assert done.status_code == 302 and done.location.endswith(f"/console/tickets/{a}")
    with services.db.session() as s:
        assert s.get_one(Contact, source).merged_into_id == target
        assert s.scalar(select(Ticket.contact_id).where(Ticket.reference == b)) == target
    assert b in client.get(f"/console/tickets/{a}").get_data(as_text=True)  # now one of hers

    agent = create_app(services.settings, services=services).test_client()
    login(agent, services, "agent", email="boris@helpdesk.test")
    assert agent.get(url).status_code == 403


def test_api_and_cli_merge(app: Any, services: Services) -> None:
    agent_id = add_agent(services, "api@helpdesk.test", "supervisor")
    with services.db.transaction() as s:
        token = create_token(s, s.get_one(Agent, agent_id), services.clock.now())
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    a = inbound(services, Identity("email", "petar@example.rs"), "Jedan", "Prvi")
    b = inbound(services, Identity("email", "petar@example.rs"), "Dva", "Drugi", "web")
    c = inbound(services, Identity("email", "mila@example.rs"), "Tri", "Treci")

    outsider = add_agent(services, "out@helpdesk.test", "agent")  # in no queue: sees none of these
    with services.db.transaction() as s:
        outsider_token = create_token(s, s.get_one(Agent, outsider), services.clock.now())
    denied = api.post(
        f"/api/v1/tickets/{b}/merge", json={"into": a}, headers={"Authorization": f"Bearer {outsider_token}"}
    )
    assert denied.status_code == 403
    r = api.post(f"/api/v1/tickets/{b}/merge", json={"into": a, "preview": True}, headers=auth)
    assert r.status_code == 200 and r.json["merged"] is False and r.json["preview"]["messages"] == 1
    assert api.post(f"/api/v1/tickets/{b}/merge", json={"into": "x"}, headers=auth).status_code == 422
    assert api.post(f"/api/v1/tickets/{b}/merge", json={"into": b}, headers=auth).status_code == 422
    bogus = {"into": a, "bogus": 1}
    assert api.post(f"/api/v1/tickets/{b}/merge", json=bogus, headers=auth).status_code == 422
    assert api.post("/api/v1/tickets/HD-2099-000001/merge", json={"into": a}, headers=auth).status_code == 404
    assert api.post(f"/api/v1/tickets/{b}/merge", json={"into": a}).status_code == 401
    r = api.post(f"/api/v1/tickets/{b}/merge", json={"into": a}, headers=auth)
    assert r.status_code == 200 and r.json["merged"] is True
    assert r.json["source"]["merged_into"] == a and r.json["source"]["status"] == "closed"
    assert api.get(f"/api/v1/tickets/{b}", headers=auth).json["merged_into"] == a
    assert "/tickets/{reference}/merge" in api.get("/api/v1/openapi.json").json["paths"]

    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app)
    dry = runner.invoke(cli, ["ticket", "merge", c, a, "--dry-run"], obj=info)
    assert dry.exit_code == 0 and "different contacts" in dry.output and "merged" not in dry.output
    done = runner.invoke(cli, ["ticket", "merge", c, a, "--as", "api@helpdesk.test"], obj=info)
    assert done.exit_code == 0 and f"merged {c} into {a}" in done.output
    again = runner.invoke(cli, ["ticket", "merge", c, a], obj=info)
    assert again.exit_code != 0 and "already merged" in again.output
    d = inbound(services, Identity("phone", "+381641112233"), "Cetiri", "Cetvrti", "sms")
    contact = runner.invoke(cli, ["contact", "merge", "064 111 2233", "petar@example.rs"], obj=info)
    assert contact.exit_code == 0 and f"({d})" in contact.output, contact.output
    assert "petar@example.rs" not in contact.output  # no addresses echoed into terminals and logs
    with services.db.session() as s:
        assert s.scalar(select(Ticket.contact_id).where(Ticket.reference == d)) == s.scalar(
            select(Ticket.contact_id).where(Ticket.reference == a)
        )
    missing = runner.invoke(cli, ["contact", "merge", "nobody@x.rs", "1"], obj=info)
    assert missing.exit_code != 0 and "no contact" in missing.output
