"""Threading, outbound mail through a relay sink, bounces, and replies to closed tickets."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from channels.email.thread_hints import parse_our_id
from helpdesk.models import Agent, Message, OutboxItem, Ticket
from helpdesk.services import FixedClock, Services
from helpdesk.tickets import Actor, reply_to_ticket, set_status
from tests.channels.email.helpers import (
    SUPPORT,
    MailClient,
    RelaySink,
    count,
    dispatch,
    fixture_bytes,
    messages,
    outbox,
    tickets,
    with_relay,
)

CITIZEN = "milica.petrovic@example.rs"


def mail_from_citizen(
    subject: str = "Elektronski sertifikat",
    body: str = "Poštovani, ne radi mi prijava sertifikatom. Šta da radim?",
    sender: str = CITIZEN,
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Milica Petrović <{sender}>"
    msg["To"] = headers.pop("to", SUPPORT)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.rs")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def open_ticket(mail: MailClient, svc: Services, sink: RelaySink) -> tuple[str, EmailMessage]:
    """A citizen writes; returns the ticket reference and the acknowledgement the relay got."""
    mail.send(mail_from_citizen(), CITIZEN)
    [ticket] = tickets(svc)
    assert dispatch(svc) == 1
    [ack] = sink.messages()
    return ticket.reference, ack


def agent_id(svc: Services) -> int:
    with svc.db.transaction() as s:
        agent = Agent(email="agent@helpdesk.localhost", name="Jelena", password_hash="x")
        s.add(agent)
        s.flush()
        return agent.id


def test_acknowledgement_reaches_the_relay_with_threading_headers(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    reference, ack = open_ticket(mail, mail_svc, relay_sink)
    [citizen_msg] = messages(mail_svc, reference)
    envelope_from, rcpts, _ = relay_sink.received[0]
    assert rcpts == [CITIZEN]
    assert envelope_from.startswith("bounce+")  # VERP: a bounce names what it returns
    assert ack["Auto-Submitted"] == "auto-replied"
    assert f"[{reference}]" in ack["Subject"]
    assert ack["In-Reply-To"] == f"<{citizen_msg.external_id}>"
    assert ack["References"] == f"<{citizen_msg.external_id}>"
    assert ack["Reply-To"].addresses[0].username.startswith("reply+")
    assert parse_our_id(ack["Message-ID"].strip("<>")) is not None
    body = ack.get_body(("plain",)).get_content()
    assert reference in body and "Primili smo vašu poruku" in ack["Subject"]  # Serbian Latin


def test_acknowledgement_in_cyrillic_and_english(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    mail.send(fixture_bytes("utf8_cyrillic.eml"), "milan.jovanovic@example.rs")
    mail.send(
        mail_from_citizen(
            subject="Password reset",
            body="Hello, I cannot log in to my account. Please help.",
            sender="john@example.com",
        ),
        "john@example.com",
    )
    assert dispatch(mail_svc) == 2
    by_rcpt = {rcpts[0]: msg for _, rcpts, msg in relay_sink.received}
    assert "Примили смо вашу поруку" in by_rcpt["milan.jovanovic@example.rs"]["Subject"]
    cyr_body = by_rcpt["milan.jovanovic@example.rs"].get_body(("plain",)).get_content()
    assert "Ово је аутоматска порука." in cyr_body
    assert "We received your message" in by_rcpt["john@example.com"]["Subject"]


def test_every_threading_signal_lands_on_the_same_ticket(
    store_mail: MailClient, mail_store: Services, relay_sink: RelaySink
) -> None:
    """Runs on SQLite and on PostgreSQL (when configured)."""
    mail, mail_svc = store_mail, mail_store
    reference, ack = open_ticket(mail, mail_svc, relay_sink)
    token = ack["Reply-To"].addresses[0].username.split("+", 1)[1]
    # 1. In-Reply-To our acknowledgement's Message-ID (never stored: the id carries the token)
    mail.send(mail_from_citizen("drugo pitanje", "Prvi odgovor", In_Reply_To=ack["Message-ID"]), CITIZEN)
    # 2. only the reference in the subject
    mail.send(mail_from_citizen(f"Dopuna [{reference}]", "Drugi odgovor"), CITIZEN)
    # 3. only the reply+TOKEN address
    mail.send(
        mail_from_citizen("nešto treće", "Treći odgovor", to=f"reply+{token}@helpdesk.localhost"),
        CITIZEN,
        to=[f"reply+{token}@helpdesk.localhost"],
    )
    # 4. References naming the citizen's own first message (stored external id)
    first = messages(mail_svc, reference)[0].external_id
    mail.send(mail_from_citizen("četvrto", "Četvrti odgovor", References=f"<{first}>"), CITIZEN)
    assert count(mail_svc, Ticket) == 1
    texts = [m.text for m in messages(mail_svc, reference)]
    assert texts[1:] == ["Prvi odgovor", "Drugi odgovor", "Treći odgovor", "Četvrti odgovor"]
    assert dispatch(mail_svc) == 0  # replies on a ticket are not acknowledged again


def test_threading_is_scoped_to_the_senders_contact(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    reference, ack = open_ticket(mail, mail_svc, relay_sink)
    stranger = "uljez@example.com"
    mail.send(
        mail_from_citizen(f"Re: [{reference}]", "Ja nisam Milica", stranger, In_Reply_To=ack["Message-ID"]),
        stranger,
    )
    assert count(mail_svc, Ticket) == 2
    assert [m.text for m in messages(mail_svc, reference)] == [messages(mail_svc, reference)[0].text]


def test_agent_reply_goes_out_threaded_and_the_citizens_answer_threads_back(
    store_mail: MailClient, mail_store: Services, relay_sink: RelaySink
) -> None:
    """Runs on SQLite and on PostgreSQL (when configured)."""
    mail, mail_svc = store_mail, mail_store
    reference, _ = open_ticket(mail, mail_svc, relay_sink)
    citizen_id = messages(mail_svc, reference)[0].external_id
    ref = reply_to_ticket(
        mail_svc,
        reference,
        Actor.agent(agent_id(mail_svc)),
        "Pokušajte ponovo da instalirate sertifikat.",
    )
    assert dispatch(mail_svc) == 1
    reply = relay_sink.messages()[-1]
    assert reply["Subject"] == f"Re: Elektronski sertifikat [{reference}]"
    assert reply["In-Reply-To"] == f"<{citizen_id}>"
    assert reply["Auto-Submitted"] is None  # a person's answer, not an automatic one
    assert "Pokušajte ponovo" in reply.get_body(("plain",)).get_content()
    [sent] = [m for m in messages(mail_svc, reference) if m.id == ref.message_id]
    assert sent.delivery_state == "sent" and f"<{sent.external_id}>" == reply["Message-ID"]
    # The citizen's mail client answers: only In-Reply-To, a fresh subject, to the support address.
    mail.send(mail_from_citizen("Hvala", "Sada radi, hvala!", In_Reply_To=reply["Message-ID"]), CITIZEN)
    assert count(mail_svc, Ticket) == 1
    assert messages(mail_svc, reference)[-1].text == "Sada radi, hvala!"


def test_quoted_reply_is_stripped_on_the_ticket(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    reference, ack = open_ticket(mail, mail_svc, relay_sink)
    body = (
        "Evo, poslala sam skeniran dokument.\n\n"
        "Dana 02.03.2026. u 09:00, Korisnička podrška je napisala:\n"
        "> Poštovani,\n> primili smo vašu poruku.\n"
    )
    mail.send(mail_from_citizen(f"Re: [{reference}]", body, In_Reply_To=ack["Message-ID"]), CITIZEN)
    last = messages(mail_svc, reference)[-1]
    assert last.text == "Evo, poslala sam skeniran dokument."
    assert "> primili smo vašu poruku." in last.meta["full_text"]


def test_html_reply_shows_the_stripped_text_and_keeps_the_html(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    reference, ack = open_ticket(mail, mail_svc, relay_sink)
    msg = mail_from_citizen(
        f"Re: [{reference}]",
        "Hvala, sada radi.\n\nOn Mon, Mar 2, 2026 at 9:00 AM Podrska wrote:\n> Pokusajte ponovo.\n",
        In_Reply_To=ack["Message-ID"],
    )
    msg.add_alternative(
        '<div>Hvala, sada radi.</div><div class="gmail_quote">On Mon, Mar 2, 2026 at 9:00 AM '
        "Podrska wrote:<blockquote>Pokusajte ponovo.</blockquote></div>",
        subtype="html",
    )
    mail.send(msg, CITIZEN)
    last = messages(mail_svc, reference)[-1]
    assert last.text == "Hvala, sada radi." and last.html is None
    assert "Pokusajte ponovo." in last.meta["full_html"]


def dsn_for(original: EmailMessage, to: str, status: str = "5.1.1") -> bytes:
    """A standard RFC 3464 bounce of `original`, as Postfix sends it."""
    returned = original.as_bytes(policy=policy.SMTP)
    head = (
        "From: MAILER-DAEMON@mx.example.rs (Mail Delivery System)\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.rs')}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-1"\r\n'
        "\r\n--dsn-1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "\r\n--dsn-1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.rs\r\n\r\n"
        f"Final-Recipient: rfc822; {CITIZEN}\r\nAction: failed\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} User unknown\r\n"
        "\r\n--dsn-1\r\nContent-Type: message/rfc822\r\n\r\n"
    ).encode("ascii")
    return head + returned + b"\r\n--dsn-1--\r\n"


def test_bounce_to_the_verp_address_marks_the_reply_failed(
    store_mail: MailClient, mail_store: Services, relay_sink: RelaySink
) -> None:
    """Runs on SQLite and on PostgreSQL (when configured)."""
    mail, mail_svc = store_mail, mail_store
    reference, _ = open_ticket(mail, mail_svc, relay_sink)
    ref = reply_to_ticket(mail_svc, reference, Actor.agent(agent_id(mail_svc)), "Odgovor")
    dispatch(mail_svc)
    envelope_from, _, reply = relay_sink.received[-1]
    answer = mail.send(dsn_for(reply, envelope_from), "", to=[envelope_from])
    assert f"OK bounce {reference}" in answer
    [failed] = [m for m in messages(mail_svc, reference) if m.id == ref.message_id]
    assert failed.delivery_state == "failed" and "5.1.1" in (failed.delivery_error or "")
    assert count(mail_svc, Ticket) == 1 and count(mail_svc, OutboxItem, OutboxItem.kind == "ack") == 1


def test_bounce_to_the_support_address_is_matched_by_the_returned_message_id(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    reference, ack = open_ticket(mail, mail_svc, relay_sink)
    # An MTA that ignores the envelope sender and writes to From: the acknowledgement bounced.
    answer = mail.send(dsn_for(ack, SUPPORT), "")
    assert f"OK bounce {reference}" in answer
    note = messages(mail_svc, reference)[-1]
    assert note.direction == "note" and "Acknowledgement not delivered" in note.text
    assert count(mail_svc, Ticket) == 1 and len(outbox(mail_svc)) == 1  # no answer to a bounce


def test_forged_bounce_for_a_message_we_never_sent_changes_nothing(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    reference, _ = open_ticket(mail, mail_svc, relay_sink)
    fake = mail_from_citizen()
    fake.replace_header("Message-ID", "<hd.0123456789abcdef01234567.m1.aa@helpdesk.localhost>")
    assert "OK bounce" in mail.send(dsn_for(fake, SUPPORT), "")
    assert [m.direction for m in messages(mail_svc, reference)] == ["inbound"]


def test_reply_to_closed_ticket_reopens_within_reopen_days_else_links_a_new_one(
    store_mail: MailClient, mail_store: Services, relay_sink: RelaySink
) -> None:
    """Runs on SQLite and on PostgreSQL (when configured)."""
    mail, mail_svc = store_mail, mail_store
    clock = mail_svc.clock
    assert isinstance(clock, FixedClock)
    reference, _ = open_ticket(mail, mail_svc, relay_sink)
    set_status(mail_svc, reference, Actor.system("test"), "closed")
    clock.advance(days=mail_svc.settings.reopen_days - 1)
    mail.send(mail_from_citizen(f"Re: [{reference}]", "Opet ne radi."), CITIZEN)
    [ticket] = tickets(mail_svc)
    assert ticket.status == "open" and messages(mail_svc, reference)[-1].text == "Opet ne radi."

    set_status(mail_svc, reference, Actor.system("test"), "closed")
    clock.advance(days=mail_svc.settings.reopen_days + 1)
    mail.send(mail_from_citizen(f"Re: [{reference}]", "Novi problem, isti sertifikat."), CITIZEN)
    old, new = tickets(mail_svc)
    assert old.status == "closed" and new.related_ticket_id == old.id
    assert messages(mail_svc, new.reference)[0].text == "Novi problem, isti sertifikat."


def test_relay_down_is_retried_with_backoff_then_delivered(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    with_relay(mail_svc, "127.0.0.1:1")  # nothing listens there
    mail.send(mail_from_citizen(), CITIZEN)
    assert dispatch(mail_svc) == 1
    [item] = outbox(mail_svc)
    assert item.status == "pending" and item.attempts == 1 and "relay unavailable" in item.last_error
    with_relay(mail_svc, f"127.0.0.1:{relay_sink.port}")
    assert dispatch(mail_svc) == 0  # not due yet: backoff
    assert isinstance(mail_svc.clock, FixedClock)
    mail_svc.clock.advance(minutes=5)
    assert dispatch(mail_svc) == 1
    assert outbox(mail_svc)[0].status == "sent" and len(relay_sink.messages()) == 1


def test_without_relay_mail_is_written_to_the_outbox_dir(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    with_relay(mail_svc, None)
    mail.send(mail_from_citizen(), CITIZEN)
    dispatch(mail_svc)
    [eml] = list((mail_svc.settings.data_dir / "outbox").glob("*.eml"))
    text = eml.read_text()
    assert "Auto-Submitted: auto-replied" in text and f"<{CITIZEN}>" in text
    assert relay_sink.messages() == []


def test_acknowledgements_to_one_sender_are_rate_limited(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    for i in range(5):
        mail.send(mail_from_citizen(f"Pitanje broj {i}", f"Tekst pitanja {i}"), CITIZEN)
    assert count(mail_svc, Ticket) == 5  # every mail is a ticket ...
    dispatch(mail_svc)
    assert len(relay_sink.messages()) == 3  # ... but only three acknowledgements went out
    with mail_svc.db.session() as s:
        failed = s.scalars(select(OutboxItem.last_error).where(OutboxItem.status == "failed")).all()
    assert len(failed) == 2 and all("acknowledgement limit" in (e or "") for e in failed)


def test_subject_and_name_cannot_inject_headers(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    raw = (
        b"From: =?utf-8?q?Eve=0D=0ABcc=3A_victim=40example=2Ecom?= <eve@example.rs>\r\n"
        b"To: podrska@helpdesk.localhost\r\n"
        b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim2=40example=2Ecom?=\r\n"
        b"Message-ID: <inject@example.rs>\r\n\r\nbody\r\n"
    )
    mail.send(raw, "eve@example.rs")
    dispatch(mail_svc)
    envelope_from, rcpts, ack = relay_sink.received[0]
    assert rcpts == ["eve@example.rs"]
    assert ack["Bcc"] is None
    assert "victim" not in "".join(f"{k}:{v}" for k, v in ack.items() if k.lower() == "bcc")
    with mail_svc.db.session() as s:
        stored = s.scalar(select(Message).where(Message.external_id == "inject@example.rs"))
        assert stored is not None


def test_our_own_reply_coming_back_opens_nothing(
    mail: MailClient, mail_svc: Services, relay_sink: RelaySink
) -> None:
    reference, _ = open_ticket(mail, mail_svc, relay_sink)
    reply_to_ticket(mail_svc, reference, Actor.agent(agent_id(mail_svc)), "Odgovor agenta")
    dispatch(mail_svc)
    ours = relay_sink.messages()[-1]
    assert ours["Auto-Submitted"] is None  # a person's reply: only its Message-ID gives it away
    assert "OK automatic" in mail.send(ours, "podrska@helpdesk.localhost")
    assert count(mail_svc, Ticket) == 1
    assert [m.direction for m in messages(mail_svc, reference)] == ["inbound", "outbound"]
