"""Real mail over smtplib into the running server: what is stored, what is refused, and how."""

from __future__ import annotations

import smtplib
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from channels.email.server import SmtpService
from helpdesk.models import MailSpoolItem, Message, OutboxItem, Ticket
from helpdesk.services import Services
from tests.channels.email.datasets import dataset_dir
from tests.channels.email.helpers import (
    SUPPORT,
    MailClient,
    count,
    drain,
    fixture_bytes,
    mail_services,
    messages,
    tickets,
)


def citizen_mail(
    subject: str = "Pitanje",
    body: str = "Kako da promenim lozinku na portalu?",
    sender: str = "ana@example.rs",
    message_id: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Ana Anić <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg


def test_new_mail_is_spooled_then_opens_a_ticket(mail: MailClient, mail_svc: Services) -> None:
    reply = mail.send_only(citizen_mail(message_id="<first@example.rs>"), "ana@example.rs")
    assert reply.startswith("2.0.0 OK queued as ")  # 250: durably spooled ...
    assert count(mail_svc, MailSpoolItem) == 1 and tickets(mail_svc) == []
    drain(mail_svc)  # ... and the worker makes the ticket
    assert count(mail_svc, MailSpoolItem) == 0
    [ticket] = tickets(mail_svc)
    assert ticket.channel == "email" and ticket.subject == "Pitanje"
    [msg] = messages(mail_svc, ticket.reference)
    assert msg.text == "Kako da promenim lozinku na portalu?"
    assert msg.external_id == "first@example.rs"
    # the raw message is kept, byte for byte, in the content-addressed store
    assert msg.raw_path and b"Kako da promenim" in mail_svc.attachments.get(msg.raw_path)


@pytest.mark.parametrize(
    ("fixture", "subject", "snippet", "script"),
    [
        (
            "windows1250_latin.eml",
            "Prijava na portal – greška sa sertifikatom",
            'Dobijam grešku "Sertifikat nije važeći". Šta da radim?',
            "latn",
        ),
        (
            "iso88592_latin.eml",
            "Termin za ličnu kartu",
            "želim da zakažem termin za izdavanje lične karte u Čačku.",
            "latn",
        ),
        (
            "utf8_cyrillic.eml",
            "Статус захтева за пасош",
            "пре месец дана сам поднео захтев за пасош",
            "cyrl",
        ),
        ("koi8r_russian.eml", "Доступ к порталу", "Как получить доступ к порталу?", "cyrl"),
    ],
)
def test_charsets_and_encoded_words(
    mail: MailClient, mail_svc: Services, fixture: str, subject: str, snippet: str, script: str
) -> None:
    mail.send(fixture_bytes(fixture), "someone@example.rs")
    [ticket] = tickets(mail_svc)
    assert ticket.subject == subject
    assert ticket.script == script
    [msg] = messages(mail_svc, ticket.reference)
    assert snippet in msg.text
    assert "\ufffd" not in msg.text


def test_signature_is_stripped_but_full_text_kept(mail: MailClient, mail_svc: Services) -> None:
    mail.send(fixture_bytes("windows1250_latin.eml"), "djordje.zivkovic@example.rs")
    [ticket] = tickets(mail_svc)
    [msg] = messages(mail_svc, ticket.reference)
    assert "Živković" not in msg.text and msg.text.endswith("Šta da radim?")
    assert "Hvala unapred,\nĐorđe Živković" in msg.meta["full_text"]


def test_attachments_inline_images_and_sanitized_html(mail: MailClient, mail_svc: Services) -> None:
    mail.send(fixture_bytes("attachments_inline_html.eml"), "marija@example.rs")
    [ticket] = tickets(mail_svc)
    [msg] = messages(mail_svc, ticket.reference)
    files = {a.filename: a for a in msg.attachments}
    assert set(files) == {"screenshot.png", "rešenje.pdf", "dokumenta.zip"}
    assert files["screenshot.png"].inline and files["screenshot.png"].content_id == "screenshot@example.rs"
    assert not files["rešenje.pdf"].inline
    assert mail_svc.attachments.get(files["rešenje.pdf"].sha256).startswith(b"%PDF-1.4")
    # the archive is stored as it came, never unpacked
    assert mail_svc.attachments.get(files["dokumenta.zip"].sha256).startswith(b"PK\x03\x04")
    html = msg.html or ""
    assert "<script" not in html and "alert" not in html and "onload" not in html
    assert "javascript:" not in html and "tracker.example.com/bg.png" not in html
    assert 'src="cid:screenshot@example.rs"' in html  # our own inline image stays
    assert ' src="https://tracker' not in html  # the tracking pixel does not load ...
    assert 'data-remote-src="https://tracker.example.com/open.gif?u=42"' in html  # ... until asked
    assert msg.meta.get("remote_images") is True


def test_oversize_message_gets_552(tmp_path: Path) -> None:
    svc = mail_services(tmp_path, max_message_bytes=50_000)
    server = SmtpService(svc, "127.0.0.1", 0)
    server.start()
    try:
        big = citizen_mail(body="x" * 80 + "\n" * 1 + ("y" * 76 + "\n") * 1000)
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as err:
            MailClient(server).send(big, "ana@example.rs")
        assert err.value.smtp_code == 552
        # without the SIZE hint in MAIL FROM, the data phase itself is refused with 552
        with smtplib.SMTP(server.host, server.port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("ana@example.rs")
            smtp.rcpt(SUPPORT)
            code, _ = smtp.data(big.as_bytes(policy=policy.SMTP))
        assert code == 552
        assert count(svc, Ticket) == 0
    finally:
        server.stop()


def test_stranger_recipient_gets_550_never_an_open_relay(mail: MailClient, mail_svc: Services) -> None:
    with smtplib.SMTP(mail.server.host, mail.server.port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("spammer@example.com")
        code, reply = smtp.rcpt("victim@gmail.com")
        assert code == 550 and b"5.7.1" in reply
        code, _ = smtp.rcpt("anyone@helpdesk.localhost.evil.com")
        assert code == 550
        code, _ = smtp.rcpt(SUPPORT)  # our own address is still fine in the same session
        assert code == 250
    assert count(mail_svc, Ticket) == 0


def test_spool_failure_answers_451_and_the_retry_is_stored(tmp_path: Path) -> None:
    svc = mail_services(tmp_path)
    with svc.db.transaction() as s:  # break the store: the spool table is gone
        s.execute(text("ALTER TABLE mail_spool RENAME TO mail_spool_away"))
    server = SmtpService(svc, "127.0.0.1", 0)
    server.start()
    try:
        mail = MailClient(server)
        with pytest.raises(smtplib.SMTPDataError) as err:
            mail.send(citizen_mail(message_id="<retry@example.rs>"), "ana@example.rs")
        assert err.value.smtp_code == 451
        assert count(svc, Ticket) == 0  # the failed attempt left nothing half-stored
        with svc.db.transaction() as s:  # the store comes back; the sender retries
            s.execute(text("ALTER TABLE mail_spool_away RENAME TO mail_spool"))
        assert "OK ticket" in mail.send(citizen_mail(message_id="<retry@example.rs>"), "ana@example.rs")
        assert count(svc, Message, Message.external_id == "retry@example.rs") == 1
    finally:
        server.stop()


def test_store_failure_after_spooling_is_retried_by_the_worker(mail: MailClient, mail_svc: Services) -> None:
    with mail_svc.db.transaction() as s:  # the tickets' tables are away (a migration, say)
        s.execute(text("ALTER TABLE messages RENAME TO messages_away"))
    assert "not stored" in mail.send(citizen_mail(message_id="<later@example.rs>"), "ana@example.rs")
    with mail_svc.db.session() as s:
        [item] = s.scalars(select(MailSpoolItem)).all()
        assert item.status == "pending" and item.attempts == 1  # kept for a retry with backoff
    with mail_svc.db.transaction() as s:
        s.execute(text("ALTER TABLE messages_away RENAME TO messages"))
        s.execute(update(MailSpoolItem).values(next_attempt_at=mail_svc.clock.now()))
    assert [o and o.kind for o in drain(mail_svc).values()] == ["ticket"]
    assert count(mail_svc, Message, Message.external_id == "later@example.rs") == 1


def test_same_message_id_twice_is_stored_once(store_mail: MailClient, mail_store: Services) -> None:
    """Runs on SQLite and on PostgreSQL (when configured)."""
    mail, mail_svc = store_mail, mail_store
    first = mail.send(citizen_mail(message_id="<twice@example.rs>"), "ana@example.rs")
    second = mail.send(citizen_mail(message_id="<twice@example.rs>"), "ana@example.rs")
    assert "OK ticket" in first and "OK duplicate" in second
    assert count(mail_svc, Ticket) == 1
    assert count(mail_svc, Message, Message.direction == "inbound") == 1
    assert count(mail_svc, OutboxItem) == 1  # one acknowledgement, not two


def test_mail_without_message_id_is_deduplicated_by_content(mail: MailClient, mail_svc: Services) -> None:
    raw = citizen_mail().as_bytes()
    mail.send(raw, "ana@example.rs")
    mail.send(raw, "ana@example.rs")
    assert count(mail_svc, Message, Message.direction == "inbound") == 1


LOOP_HEADERS = [
    ("Auto-Submitted", "auto-replied"),
    ("Auto-Submitted", "auto-generated"),
    ("Precedence", "bulk"),
    ("Precedence", "list"),
    ("Precedence", "junk"),
    ("X-Loop", SUPPORT),
    ("X-Auto-Response-Suppress", "All"),
]


@pytest.mark.parametrize(("name", "value"), LOOP_HEADERS)
def test_automatic_mail_never_opens_a_ticket_or_gets_an_answer(
    mail: MailClient, mail_svc: Services, name: str, value: str
) -> None:
    msg = citizen_mail(subject="Obaveštenje", message_id="<auto@example.rs>")
    msg[name] = value
    reply = mail.send(msg, "robot@example.rs")
    assert "OK automatic" in reply  # accepted (no bounce back to a robot), then dropped
    assert count(mail_svc, Ticket) == 0 and count(mail_svc, OutboxItem) == 0


def test_auto_submitted_no_is_a_person(mail: MailClient, mail_svc: Services) -> None:
    msg = citizen_mail()
    msg["Auto-Submitted"] = "no"
    mail.send(msg, "ana@example.rs")
    assert count(mail_svc, Ticket) == 1 and count(mail_svc, OutboxItem) == 1


@pytest.mark.parametrize(
    "name",
    ["rfc3834-01.eml", "rfc3834-03.eml", "rfc3464-01.eml", "lhost-postfix-01.eml", "arf-01.eml"],
)
def test_real_vacation_replies_and_bounces_open_nothing(
    mail: MailClient, mail_svc: Services, name: str
) -> None:
    raw = (dataset_dir("sisimai-bounces") / "maildir" / "bsd" / name).read_bytes()
    reply = mail.send(raw, "")
    assert "OK automatic" in reply or "OK bounce" in reply
    assert count(mail_svc, Ticket) == 0 and count(mail_svc, OutboxItem) == 0


def test_mailing_list_mail_opens_a_ticket_without_acknowledgement(
    mail: MailClient, mail_svc: Services
) -> None:
    msg = citizen_mail()
    msg["List-Id"] = "<gradjani.lists.example.rs>"
    mail.send(msg, "ana@example.rs")
    assert count(mail_svc, Ticket) == 1 and count(mail_svc, OutboxItem) == 0


def test_garbage_data_is_accepted_as_text_not_a_crash(mail: MailClient, mail_svc: Services) -> None:
    raw = (
        b"From: ana@example.rs\r\nContent-Type: multipart/mixed; boundary=\r\n"
        b"Subject: =?x-unknown?Q?=FF=FE?=\r\n\r\n\xff\xfe\x00 broken \xc3\x28 bytes\r\n"
    )
    reply = mail.send(raw, "ana@example.rs")
    assert "OK ticket" in reply
    [ticket] = tickets(mail_svc)
    assert "broken" in messages(mail_svc, ticket.reference)[0].text


def test_a_citizen_forwarding_a_bounce_gets_a_ticket(mail: MailClient, mail_svc: Services) -> None:
    bounce = (dataset_dir("sisimai-bounces") / "maildir" / "bsd" / "rfc3464-01.eml").read_bytes()
    msg = citizen_mail(
        subject="Fwd: Undelivered Mail Returned to Sender",
        body="Poslala sam zahtev ministarstvu i vratio mi se ovaj mejl. Šta da radim?",
    )
    msg.add_attachment(message_from_bytes(bounce, policy=policy.default))
    assert "OK ticket" in mail.send(msg, "ana@example.rs")
    [ticket] = tickets(mail_svc)
    [stored] = messages(mail_svc, ticket.reference)
    assert stored.text.startswith("Poslala sam zahtev") and len(stored.attachments) == 1
