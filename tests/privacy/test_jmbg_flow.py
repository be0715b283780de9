"""A citizen's JMBG from mail to console, API, search, reply mail and the audited reveal."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from sqlalchemy import select

from channels.email.server import SmtpService
from helpdesk import create_app
from helpdesk.auth.accounts import create_token
from helpdesk.models import Agent, AuditEvent, Message, Queue, SensitiveValue, Ticket
from helpdesk.services import Services
from helpdesk.tickets import Actor, reply_to_ticket
from tests.channels.email.helpers import MailClient, dispatch, mail_services, tickets
from tests.conftest import csrf_token_from, login

VALID = "0101990710008"  # 1 Jan 1990, Belgrade, check digit 8
MASKED = "0101990••••••"
INVALID = "0101990710006"  # the same with a wrong check digit: an order number, left alone


def join_queue(svc: Services, agent_id: int, queue: str) -> None:
    with svc.db.transaction() as s:
        agent = s.get_one(Agent, agent_id)
        agent.queues = list(s.scalars(select(Queue).where(Queue.name == queue)))


def test_jmbg_is_masked_everywhere_and_revealed_only_with_audit(tmp_path: Path) -> None:
    svc = mail_services(tmp_path, channels=("channels.email",), smtp_port=0)
    app = create_app(svc.settings, services=svc)
    smtp = SmtpService(svc, "127.0.0.1", 0)
    smtp.start()
    try:
        reply = MailClient(smtp).send(
            (
                "From: Petar <petar@example.rs>\r\nTo: podrska@helpdesk.localhost\r\n"
                f"Subject: JMBG {VALID}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                f"Moj JMBG je {VALID}, broj porudzbine {INVALID}.\r\n\r\n"
                "On Mon, 23 Nov 2026 at 09:00, Petar <petar@example.rs> wrote:\r\n"
                f"> JMBG {VALID}\r\n"
            ).encode(),
            "petar@example.rs",
        )
    finally:
        smtp.stop()
    assert "OK ticket" in reply
    [ticket] = tickets(svc)
    ref = ticket.reference
    assert ticket.subject == f"JMBG {MASKED}"

    # Stored: the text masked, the full number only encrypted apart from it.
    with svc.db.session() as s:
        message = s.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
        assert VALID not in message.text and MASKED in message.text and INVALID in message.text
        # The quoted part is kept beside the text (the full-mail page): masked as well.
        assert MASKED in message.meta["full_text"] and VALID not in str(message.meta)
        [sealed] = s.scalars(select(SensitiveValue)).all()
        assert sealed.message_id == message.id and sealed.kind == "jmbg"
        assert VALID not in sealed.ciphertext
        message_id = message.id

    # The console page of an agent of the ticket's queue.
    agent = app.test_client()
    agent_id = login(agent, svc, "agent", "ana@helpdesk.localhost")
    join_queue(svc, agent_id, ticket.queue)
    page = agent.get(f"/console/tickets/{ref}").get_data(as_text=True)
    assert MASKED in page and VALID not in page and INVALID in page
    assert f'action="/console/messages/{message_id}/reveal"' in page  # the "Show number" button
    timeline = agent.get(f"/console/tickets/{ref}/timeline").get_data(as_text=True)
    assert MASKED in timeline and VALID not in timeline

    # The REST API and its search: the full number finds nothing, the bad one is searchable.
    with svc.db.transaction() as s:
        token = create_token(s, s.get_one(Agent, agent_id), svc.clock.now())
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    shown = api.get(f"/api/v1/tickets/{ref}", headers=bearer)
    assert shown.status_code == 200
    body = shown.get_data(as_text=True)
    assert VALID not in body and MASKED in shown.get_json()["messages"][0]["text"]

    def found(q: str) -> list[str]:
        listed = api.get("/api/v1/tickets", query_string={"q": q}, headers=bearer)
        assert listed.status_code == 200
        return [t["reference"] for t in listed.get_json()["tickets"]]

    assert found(VALID) == [] and found(INVALID) == [ref] and found("porudzbine") == [ref]
    assert VALID not in api.get("/api/v1/tickets", headers=bearer).get_data(as_text=True)

    # An agent pasting the number into a reply: stored and mailed masked, quoted subject too.
    reply_to_ticket(svc, ref, Actor.agent(agent_id), f"Proverili smo JMBG {VALID}. Pozdrav")
    assert dispatch(svc) >= 1
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in (svc.settings.data_dir / "outbox").glob("*.eml")
    ]
    texts = [f"{m['Subject']}\n{m.get_body(('plain',)).get_content()}" for m in mails]  # type: ignore[union-attr]
    assert texts and all(VALID not in t for t in texts)
    assert any(f"Proverili smo JMBG {MASKED}" in t for t in texts)

    # The reveal: CSRF-checked POST, the full number, audited without the number.
    csrf = csrf_token_from(page)
    assert agent.post(f"/console/messages/{message_id}/reveal").status_code == 400  # no CSRF
    shown = agent.post(
        f"/console/messages/{message_id}/reveal",
        data={"csrf_token": csrf},
        headers={"Accept": "application/json"},
    )
    assert shown.status_code == 200 and shown.get_json()["numbers"] == [VALID]
    assert shown.headers["Cache-Control"] == "no-store"
    as_page = agent.post(f"/console/messages/{message_id}/reveal", data={"csrf_token": csrf})
    assert as_page.status_code == 200 and VALID in as_page.get_data(as_text=True)

    # An agent of another queue may not, and a message with nothing sealed has nothing to show.
    other = app.test_client()
    other_id = login(other, svc, "agent", "vesna@helpdesk.localhost")
    join_queue(svc, other_id, "payments" if ticket.queue != "payments" else "documents")
    other_page = other.get("/console")
    refused = other.post(
        f"/console/messages/{message_id}/reveal",
        data={"csrf_token": csrf_token_from(other_page.get_data(as_text=True))},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 403

    with svc.db.session() as s:
        reveals = s.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.revealed")).all()
        assert [(e.actor_agent_id, e.ticket_id) for e in reveals] == [(agent_id, ticket.id)] * 2
        assert all(e.after == {"message_id": message_id, "kind": "jmbg", "count": 1} for e in reveals)
        everything = " ".join(str((e.before, e.after)) for e in s.scalars(select(AuditEvent)))
        assert VALID not in everything
        agent_reply = s.scalars(
            select(Message).where(
                Message.ticket_id == ticket.id, Message.direction == "outbound", Message.agent_id == agent_id
            )
        ).one()
        assert agent_reply.text == f"Proverili smo JMBG {MASKED}. Pozdrav"
        assert s.scalar(select(Ticket.subject).where(Ticket.id == ticket.id)) == f"JMBG {MASKED}"


def test_reveal_of_an_unknown_message_is_404(client: Any, services: Services) -> None:
    login(client, services, "supervisor")
    csrf = csrf_token_from(client.get("/console").get_data(as_text=True))
    missing = client.post("/console/messages/999/reveal", data={"csrf_token": csrf})
    assert missing.status_code == 404
