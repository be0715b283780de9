"""The contact form (/contact) and the web channel's sender: a web-form citizen gets an
acknowledgement and the agent's answer by email (at the SMTP relay) or, with only a phone number,
by SMS (the local SMS outbox)."""

from __future__ import annotations

import io
import re
from typing import Any

from werkzeug.test import EnvironBuilder

from channels.dispatcher import OutboxDispatcher
from channels.phone import outbox_log
from helpdesk.models import OutboxItem, Ticket
from helpdesk.services import Services
from helpdesk.tickets import Actor, reply_to_ticket
from tests.citizen.conftest import Sink
from tests.conftest import add_agent, csrf_token_from

REF = re.compile(r"HD-\d{4}-\d{6}")


def _svc(app: Any) -> Services:
    svc: Services = app.extensions["helpdesk"]
    return svc


def _deliver(svc: Services) -> None:
    next(s for s in svc.background if isinstance(s, OutboxDispatcher)).run_once()


def _post(client: Any, lang: str = "en", files: list[tuple[bytes, str]] = (), **fields: str) -> Any:  # type: ignore[assignment]
    token = csrf_token_from(client.get(f"/contact?lang={lang}").get_data(as_text=True))
    data: dict[str, Any] = {"csrf_token": token, "consent": "yes", **fields}
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    # Built by hand so that the request body (spooled to a temporary file when large) is closed.
    environ = EnvironBuilder(path=f"/contact?lang={lang}", method="POST", data=data).get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()


def test_form_page_explains_why_a_way_back_is_needed(citizen_app: Any) -> None:
    html = citizen_app.test_client().get("/contact?lang=en").get_data(as_text=True)
    assert "it is how we send you our answer" in html
    assert 'type="file"' in html and "PDF, JPEG, PNG" in html
    assert "only to answer this request" in html  # the consent text
    assert 'href="/?lang=en"' in html  # the header leads back to the front door


BAD_INPUT = [
        (
            {"name": "Ana", "subject": "Pasoš", "message": "Kada?"},
            [],
            "email",
            "Give an email address or a phone number",
        ),
        (
            {"name": "Ana", "email": "ana@", "subject": "S", "message": "M"},
            [],
            "email",
            "Enter an email address like",
        ),
        (
            {"name": "Ana", "phone": "12", "subject": "S", "message": "M"},
            [],
            "phone",
            "Enter a phone number like",
        ),
        (
            {"name": "Ana", "email": "ana@example.rs", "subject": "S", "message": "M"},
            [(b"MZ\x90\x00", "virus.exe")],
            "attachments",
            "is not a file type we accept",
        ),
        (
            {"name": "Ana", "email": "ana@example.rs", "subject": "S", "message": "M"},
            [(b"<html>", "scan.pdf")],
            "attachments",
            "is not really a PDF file",
        ),
        (
            {"name": "Ana", "email": "ana@example.rs", "subject": "S", "message": "M"},
            [(b"%PDF-" + b"0" * (5 * 1024 * 1024), "big.pdf")],
            "attachments",
            "larger than 5 MB",
        ),
]


def test_bad_input_gets_a_clear_error_and_keeps_what_was_typed(citizen_app: Any) -> None:
    client = citizen_app.test_client()
    for fields, files, field, message in BAD_INPUT:
        response = _post(client, files=files, **fields)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, message
        assert message in html and f'href="#contact-{field}"' in html  # summary links to the field
        assert f'id="contact-{field}"' in html and 'aria-invalid="true"' in html
        assert 'value="Ana"' in html  # nothing typed is lost
    with _svc(citizen_app).db.session() as s:
        assert s.query(Ticket).count() == 0


def test_consent_and_csrf_are_required(citizen_app: Any) -> None:
    client = citizen_app.test_client()
    token = csrf_token_from(client.get("/contact?lang=en").get_data(as_text=True))
    fields = {"name": "Ana", "email": "ana@example.rs", "subject": "S", "message": "M"}
    no_consent = client.post("/contact?lang=en", data={"csrf_token": token, **fields})
    assert no_consent.status_code == 422 and "Agree to the use of your data" in no_consent.get_data(
        as_text=True
    )
    forged = client.post("/contact?lang=en", data={**fields, "consent": "yes"})
    assert forged.status_code == 400


def test_email_contact_gets_ack_and_reply_at_the_relay(citizen_app: Any, relay: tuple[Sink, int]) -> None:
    sink, _ = relay
    svc = _svc(citizen_app)
    client = citizen_app.test_client()
    response = _post(
        client,
        lang="sr-Cyrl",
        name="Ana Petrović",
        email="Ana@Example.rs",
        phone="064 123 4567",
        subject="Izgubljen pasoš",
        message="Izgubila sam pasoš, šta da radim?",
        files=[(b"%PDF-1.4 prijava", "prijava.pdf")],
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    reference = REF.search(page).group(0)  # type: ignore[union-attr]
    assert "Порука је примљена" in page and "е-пошт" in page  # what happens next, in Cyrillic
    with svc.db.session() as s:
        ticket = s.query(Ticket).filter_by(reference=reference).one()
        assert ticket.channel == "web" and ticket.script == "cyrl"
        assert [a.filename for a in ticket.messages[0].attachments] == ["prijava.pdf"]
    _deliver(svc)
    (ack,) = sink.to("ana@example.rs")
    assert reference in ack["Subject"] and "примили смо" in ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    agent = add_agent(svc, "marko@helpdesk.localhost", name="Marko")
    reply_to_ticket(svc, reference, Actor.agent(agent), "Prijavite gubitak u policijskoj stanici.")
    _deliver(svc)
    replies = sink.to("ana@example.rs")
    assert len(replies) == 2
    assert "policijskoj stanici" in replies[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with svc.db.session() as s:
        items = s.query(OutboxItem).all()
        assert {i.status for i in items} == {"sent"} and all(not i.last_error for i in items)


def test_phone_only_contact_is_answered_by_sms(citizen_app: Any, relay: tuple[Sink, int]) -> None:
    svc = _svc(citizen_app)
    client = citizen_app.test_client()
    response = _post(
        client, name="Jovan", phone="064 765 4321", subject="eUprava", message="Ne mogu da se prijavim."
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    reference = REF.search(page).group(0)  # type: ignore[union-attr]
    assert "by SMS" in page
    agent = add_agent(svc, "marko@helpdesk.localhost")
    reply_to_ticket(svc, reference, Actor.agent(agent), "Resetujte lozinku na portalu.")
    _deliver(svc)
    sms = [r for r in outbox_log.read_latest(svc.settings.data_dir) if r["ticket"] == reference]
    assert {r["to"] for r in sms} == {"+381647654321"}
    assert sorted(r["kind"] for r in sms) == ["ack", "reply"]
    assert any("Resetujte lozinku" in r["body"] for r in sms)
    assert relay[0].received == []


def test_json_form_api_tickets_are_answered_too(citizen_app: Any, relay: tuple[Sink, int]) -> None:
    svc = _svc(citizen_app)
    created = citizen_app.test_client().post(
        "/api/v1/tickets",
        json={"contact": {"name": "Ana", "email": "ana@example.rs"}, "subject": "S", "body": "Pitanje"},
    )
    assert created.status_code == 201
    _deliver(svc)
    assert len(relay[0].to("ana@example.rs")) == 1


def test_console_says_when_a_reply_cannot_reach_the_citizen(tmp_path: Any) -> None:
    from helpdesk import create_app
    from tests.citizen.conftest import citizen_services
    from tests.conftest import login

    svc = citizen_services(tmp_path, channels=("channels.email", "channels.web"))  # no SMS here
    app = create_app(svc.settings, services=svc)
    client = app.test_client()
    refs = {}
    for who, contact in (("phone", {"phone": "064 111 2222"}), ("email", {"email": "a@example.rs"})):
        made = client.post(
            "/api/v1/tickets",
            json={"contact": {"name": "Ana", **contact}, "subject": "S", "body": "Pitanje"},
        )
        refs[who] = made.get_json()["reference"]
    login(client, svc, "supervisor")
    phone_only = client.get(f"/console/tickets/{refs['phone']}?lang=en").get_data(as_text=True)
    assert 'id="unreachable"' in phone_only and "Write an internal note instead" in phone_only
    assert '<form id="reply-form" class="compose" hidden>' in phone_only
    assert 'id="note-form"' in phone_only
    with_email = client.get(f"/console/tickets/{refs['email']}?lang=en").get_data(as_text=True)
    assert 'id="unreachable"' not in with_email and '<form id="reply-form" class="compose">' in with_email
    svc.db.dispose()


def test_the_form_is_rate_limited_like_the_api(tmp_path: Any) -> None:
    from helpdesk import create_app
    from tests.citizen.conftest import citizen_services

    svc = citizen_services(tmp_path, api_ticket_rate_limit="2 per minute")
    client = create_app(svc.settings, services=svc).test_client()
    fields = {"name": "Ana", "email": "ana@example.rs", "subject": "S", "message": "M"}
    assert [_post(client, **fields).status_code for _ in range(3)] == [303, 303, 429]
    svc.db.dispose()
