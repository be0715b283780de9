"""The channel inside the real app: init_app, the background SMTP service, the console outbox page,
the `smtp` command, and the SMTP session limits."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from channels.dispatcher import OutboxDispatcher
from channels.email.sender import EmailSender
from channels.email.server import COMMAND_LIMIT, SmtpService
from helpdesk import create_app
from helpdesk.console.views import render_panels
from helpdesk.models import Queue, Ticket
from helpdesk.services import Services
from helpdesk.tickets import Actor, assign_ticket
from tests.channels.email.helpers import (
    SUPPORT,
    MailClient,
    count,
    fixture_bytes,
    mail_services,
    messages,
    tickets,
)
from tests.conftest import login


def email_app(tmp_path: Path, **overrides: Any) -> tuple[Any, Services]:
    svc = mail_services(tmp_path, channels=("channels.email",), smtp_port=0, **overrides)
    return create_app(svc.settings, services=svc), svc


def test_init_app_registers_sender_smtp_service_and_command(tmp_path: Path) -> None:
    app, svc = email_app(tmp_path)
    assert isinstance(svc.senders["email"], EmailSender)
    [smtp] = [b for b in svc.background if b.name == "smtp"]
    assert "smtp" in app.cli.commands
    smtp.start()  # what `helpdesk serve` does in embedded mode
    try:
        assert isinstance(smtp, SmtpService)
        reply = MailClient(smtp).send(
            b"From: ana@example.rs\r\nTo: podrska@helpdesk.localhost\r\nSubject: Zdravo\r\n\r\nTekst\r\n",
            "ana@example.rs",
        )
        assert "OK ticket HD-" in reply and count(svc, Ticket) == 1
    finally:
        smtp.stop()


def test_console_shows_the_local_outbox_only_for_visible_tickets(tmp_path: Path) -> None:
    app, svc = email_app(tmp_path)  # no relay configured: mail goes to <data_dir>/outbox
    smtp = SmtpService(svc, "127.0.0.1", 0)
    smtp.start()
    try:
        client_mail = MailClient(smtp)
        client_mail.send(
            b"From: ana@example.rs\r\nTo: podrska@helpdesk.localhost\r\nSubject: Prvo\r\n\r\nA\r\n",
            "ana@example.rs",
        )
        client_mail.send(
            b"From: bora@example.rs\r\nTo: podrska@helpdesk.localhost\r\nSubject: Drugo\r\n\r\nB\r\n",
            "bora@example.rs",
        )
    finally:
        smtp.stop()
    assert OutboxDispatcher(svc).run_once() == 2
    assert len(list((svc.settings.data_dir / "outbox").glob("*.eml"))) == 2
    client = app.test_client()
    agent = login(client, svc, "agent")
    first, second = tickets(svc)
    with svc.db.transaction() as s:  # the agent works a queue that holds neither ticket
        s.add(Queue(name="elsewhere", title="Elsewhere"))
    assign_ticket(svc, first.reference, Actor.system("test"), agent)
    page = client.get("/console/email/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert first.reference in html and "ana@example.rs" in html
    assert second.reference not in html and "bora@example.rs" not in html  # not theirs to see
    assert "Primili smo" in html or "We received" in html


def test_console_outbox_needs_a_login(tmp_path: Path) -> None:
    app, _ = email_app(tmp_path)
    response = app.test_client().get("/console/email/outbox")
    assert response.status_code in (302, 401)


def test_a_client_looping_on_commands_is_cut_off(mail: MailClient) -> None:
    with smtplib.SMTP(mail.server.host, mail.server.port, timeout=30) as smtp:
        smtp.ehlo()
        codes = [smtp.noop()[0] for _ in range(COMMAND_LIMIT + 1)]
    assert codes[:COMMAND_LIMIT] == [250] * COMMAND_LIMIT
    assert codes[-1] == 421  # "too many" and the session is closed


def test_too_many_recipients_are_refused_politely(mail: MailClient) -> None:
    with smtplib.SMTP(mail.server.host, mail.server.port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("ana@example.rs")
        codes = [smtp.rcpt(f"a{i}@helpdesk.localhost")[0] for i in range(60)]
    assert codes.count(250) == 50 and set(codes[50:]) == {452}


def test_mail_without_any_sender_is_refused_with_550(mail: MailClient) -> None:
    with smtplib.SMTP(mail.server.host, mail.server.port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("nobody")
        smtp.rcpt(SUPPORT)
        code, reply = smtp.data(b"Subject: no from\r\n\r\nwho am I\r\n")
    assert code == 550 and b"5.1.7" in reply


def test_an_idle_session_is_closed(mail_svc: Services, monkeypatch: Any) -> None:
    monkeypatch.setattr("channels.email.server.SESSION_TIMEOUT", 1)
    server = SmtpService(mail_svc, "127.0.0.1", 0)
    server.start()
    try:
        with smtplib.SMTP(server.host, server.port, timeout=30) as smtp:
            smtp.ehlo()
            # Say nothing; the server hangs up instead of holding the slot forever.
            with pytest.raises(smtplib.SMTPServerDisconnected):
                smtp.getreply()
                smtp.noop()
    finally:
        server.stop()


def test_oversize_attachment_is_listed_not_stored(tmp_path: Path) -> None:
    svc = mail_services(tmp_path, max_attachment_bytes=1000)
    server = SmtpService(svc, "127.0.0.1", 0)
    server.start()
    try:
        msg = EmailMessage()
        msg["From"] = "ana@example.rs"
        msg["To"] = SUPPORT
        msg["Subject"] = "Skenirana dokumenta"
        msg.set_content("U prilogu.")
        msg.add_attachment(
            b"%PDF" + b"x" * 5000, maintype="application", subtype="pdf", filename="veliki.pdf"
        )
        msg.add_attachment(b"%PDF small", maintype="application", subtype="pdf", filename="mali.pdf")
        MailClient(server).send(msg, "ana@example.rs")
    finally:
        server.stop()
    [ticket] = tickets(svc)
    [stored] = messages(svc, ticket.reference)
    assert [a.filename for a in stored.attachments] == ["mali.pdf"]
    assert stored.meta["omitted_attachments"] == [
        {"filename": "veliki.pdf", "size": 5004, "reason": "too large"}
    ]


def test_agent_opens_the_whole_mail_and_asks_for_remote_images(tmp_path: Path) -> None:
    app, svc = email_app(tmp_path)
    smtp = SmtpService(svc, "127.0.0.1", 0)
    smtp.start()
    try:
        MailClient(smtp).send(fixture_bytes("attachments_inline_html.eml"), "marija@example.rs")
    finally:
        smtp.stop()
    [ticket] = tickets(svc)
    [stored] = messages(svc, ticket.reference)
    client = app.test_client()
    login(client, svc, "supervisor")
    with app.test_request_context(), svc.db.session() as s:  # the panel on the ticket view
        panels = render_panels(s.get_one(Ticket, ticket.id))
    assert any(f"/console/email/messages/{stored.id}" in str(p) for p in panels)
    page = client.get(f"/console/email/messages/{stored.id}?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Load remote images" in html
    assert ' src="https://tracker' not in html
    png = next(a for a in stored.attachments if a.content_id)
    assert f'src="/attachments/{png.public_id}"' in html  # the inline image shows from our own store
    assert "img-src 'self' data:;" in page.headers["Content-Security-Policy"]
    asked = client.get(f"/console/email/messages/{stored.id}?images=1")
    assert 'src="https://tracker.example.com/open.gif?u=42"' in asked.get_data(as_text=True)
    assert "img-src 'self' data: https:" in asked.headers["Content-Security-Policy"]
    assert "<script" not in asked.get_data(as_text=True).split("</main>")[0].split("<article")[-1]


def test_mail_page_is_only_for_agents_who_may_see_the_ticket(tmp_path: Path) -> None:
    app, svc = email_app(tmp_path)
    smtp = SmtpService(svc, "127.0.0.1", 0)
    smtp.start()
    try:
        MailClient(smtp).send(fixture_bytes("attachments_inline_html.eml"), "marija@example.rs")
    finally:
        smtp.stop()
    [ticket] = tickets(svc)
    [stored] = messages(svc, ticket.reference)
    client = app.test_client()
    login(client, svc, "agent")  # in no queue, not assigned
    assert client.get(f"/console/email/messages/{stored.id}").status_code == 403


def test_failed_mail_is_listed_and_retried_by_the_admin_cli(tmp_path: Path, monkeypatch: Any) -> None:
    from channels.email.spool_worker import SpoolWorker
    from channels.email.spool_writer import Spooled, write_rows

    app, svc = email_app(tmp_path)
    raw = b"From: ana@example.rs\r\nSubject: Pitanje\r\n\r\nKako da se prijavim?\r\n"
    [item_id] = write_rows(svc, [Spooled("ana@example.rs", ["podrska@helpdesk.localhost"], raw)])

    def broken(*_: object) -> None:
        raise ValueError("a parser bug")

    monkeypatch.setattr("channels.email.spool_worker.read_mail", broken)
    SpoolWorker(svc).run_once()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["mail", "spool"])
    assert listed.exit_code == 0
    assert "pending=0 working=0 failed=1" in listed.output
    assert f"{item_id}\t" in listed.output and "ValueError" in listed.output
    assert "ana@example.rs" not in listed.output  # no addresses on the terminal or in logs
    monkeypatch.undo()  # the bug is fixed
    retried = runner.invoke(args=["mail", "retry", str(item_id)])
    assert retried.exit_code == 0 and "1 mail(s) queued again" in retried.output
    SpoolWorker(svc).run_once()
    assert count(svc, Ticket) == 1
    assert runner.invoke(args=["mail", "retry", "999"]).exit_code != 0
