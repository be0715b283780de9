"""Issue 17's "done when" for incidents: matching inquiries by email (smtplib against our SMTP
port), chat (python-socketio) and SMS (signed Twilio webhooks) each get the incident's notice on
their own channel and are linked; one bulk answer reaches each citizen once on that channel, even
with the dispatcher run twice; a number that sent STOP gets nothing."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

from hd_servers import Citizen  # type: ignore[import-not-found]
from sqlalchemy import select

from channels.dispatcher import OutboxDispatcher
from channels.phone import outbox_log
from helpdesk.incidents.answers import answer_incident, preview_answer
from helpdesk.incidents.linking import link_ticket
from helpdesk.models import IncidentTicket, Message, Ticket
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound
from tests.channels.email.helpers import SUPPORT, RelaySink
from tests.conftest import LiveServer
from tests.incidents.conftest import NOTICE_EN, NOTICE_LATN, post_sms, wait_for

ANSWER = "Portal eUprava ponovo radi. Molimo vas da se prijavite još jednom. Izvinjavamo se."
SMS_CITIZEN = "+381641111111"
SMS_STOPPED = "+381642222222"


def send_mail(server: LiveServer, sender: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, SUPPORT, subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", server.services.settings.smtp_port, timeout=30) as smtp:
        smtp.send_message(msg)


def links(server: LiveServer) -> dict[str, tuple[str, int | None]]:
    """channel:sender-ish key -> (reference, linked incident id) for every ticket."""
    with server.services.db.session() as s:
        rows = s.execute(
            select(Ticket.reference, Ticket.channel, Ticket.subject, IncidentTicket.incident_id)
            .outerjoin(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
            .order_by(Ticket.id)
        ).all()
    return {f"{r.channel}:{r.subject[:20].strip()}": (r.reference, r.incident_id) for r in rows}


def sms_to(server: LiveServer, number: str) -> list[dict[str, Any]]:
    return [
        r for r in outbox_log.read_latest(server.services.settings.data_dir, "sms", 500) if r["to"] == number
    ]


def mails_to(relay: RelaySink, address: str) -> list[EmailMessage]:
    return [m for _, rcpt, m in list(relay.received) if rcpt == [address]]


def body_of(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_the_notice_and_one_bulk_answer_reach_each_citizen_on_their_own_channel(
    server: LiveServer, relay: RelaySink, incident: int, supervisor: int
) -> None:
    svc = server.services
    send_mail(
        server,
        "Marija <marija@example.rs>",
        "Ne mogu da se prijavim na eUprava",
        "Poštovani, već sat vremena pokušavam da se prijavim, a stranica javlja grešku.",
    )
    send_mail(
        server,
        "Petar <petar@example.rs>",
        "Promena adrese",
        "Poštovani, kako da promenim adresu stanovanja u ličnoj karti?",
    )
    citizen = Citizen(server.url)
    citizen.connect()
    assert citizen.send("Hello, eUprava shows an error when I try to log in.")["ok"]  # type: ignore[index]
    assert "Odjavljeni" in post_sms(server, SMS_STOPPED, "STOP", "SM" + "1" * 32)
    post_sms(server, SMS_CITIZEN, "Da li radi eUprava? Piše greška kad se prijavljujem.", "SM" + "2" * 32)
    post_sms(server, SMS_STOPPED, "Šta je sa eUpravom? Ne radi prijava na portal.", "SM" + "3" * 32)

    found = wait_for(lambda: len(f := links(server)) == 5 and f, "five tickets")
    linked = {key for key, (_, incident_id) in found.items() if incident_id == incident}
    assert linked == {
        "email:Ne mogu da se prijav",
        "chat:Hello, eUprava shows",
        "sms:Da li radi eUprava?",
        "sms:Šta je sa eUpravom?",
    }, found
    assert found["email:Promena adrese"][1] is None  # about something else: not linked

    for _ in range(2):  # a second run finds nothing left to send
        OutboxDispatcher(svc).run_once()

    [notice_mail] = mails_to(relay, "marija@example.rs")
    assert NOTICE_LATN in body_of(notice_mail)
    assert notice_mail["Auto-Submitted"] == "auto-replied"
    [usual_ack] = mails_to(relay, "petar@example.rs")
    assert "Primili smo vašu poruku" in str(usual_ack["Subject"])  # the usual acknowledgement
    assert citizen.wait_text(NOTICE_EN)["direction"] == "outbound"
    [notice_sms] = sms_to(server, SMS_CITIZEN)
    assert notice_sms["body"].startswith(NOTICE_LATN) and notice_sms["body"].endswith("pošaljite STOP.")
    assert sms_to(server, SMS_STOPPED) == []  # sent STOP: no notice

    result = answer_incident(svc, incident, Actor.agent(supervisor), ANSWER, "form-1", None)
    assert result.queued == 4
    again = answer_incident(svc, incident, Actor.agent(supervisor), ANSWER, "form-1", None)
    assert again.duplicate and again.queued == 0  # the same form twice sends nothing again
    for _ in range(2):
        OutboxDispatcher(svc).run_once()

    marija = mails_to(relay, "marija@example.rs")
    assert len(marija) == 2 and ANSWER in body_of(marija[1])
    assert len(mails_to(relay, "petar@example.rs")) == 1  # not linked: not answered
    citizen.wait_text(ANSWER)
    assert [m["text"] for m in citizen.shown].count(ANSWER) == 1 and citizen.doubles == 0
    answers = [r for r in sms_to(server, SMS_CITIZEN) if r["kind"] == "reply"]
    assert len(answers) == 1 and answers[0]["body"].startswith(ANSWER)
    assert sms_to(server, SMS_STOPPED) == []  # STOP holds for the bulk answer too
    citizen.drop()


def test_a_citizen_with_several_linked_tickets_gets_the_bulk_answer_once_per_address(
    server: LiveServer, relay: RelaySink, incident: int, supervisor: int
) -> None:
    """Two email tickets from one address, and an SMS and a phone ticket from one number: one
    answer mail and one answer SMS, while all four tickets carry the answer and move on alike."""
    svc = server.services
    send_mail(server, "Marija <marija@example.rs>", "eUprava ne radi", "Ne mogu da se prijavim na eUprava.")
    send_mail(server, "Marija <marija@example.rs>", "Opet eUprava", "I dalje ne radi eUprava, hitno je.")
    send_mail(server, "Petar <petar@example.rs>", "Prijava na portal", "Ne radi prijava na portal.")
    post_sms(server, SMS_CITIZEN, "Da li radi eUprava?", "SM" + "4" * 32)
    voicemail = receive_inbound(  # the same number left a voicemail about it (a "phone" ticket)
        svc,
        InboundMessage(
            channel="phone",
            sender=Identity("phone", SMS_CITIZEN),
            subject="Govorna poruka",
            text="Zvao sam zbog portala.",
            language="sr",
        ),
    )
    link_ticket(svc, incident, voicemail.ticket_reference, Actor.agent(supervisor))
    wait_for(lambda: sum(1 for _, i in links(server).values() if i == incident) == 5, "five linked tickets")
    for _ in range(2):
        OutboxDispatcher(svc).run_once()  # the notices go out first

    preview = preview_answer(svc, incident, None)
    assert (preview.total, preview.messages) == (5, 3)
    result = answer_incident(svc, incident, Actor.agent(supervisor), ANSWER, "form-2", None)
    assert (result.queued, result.messages) == (5, 3)
    for _ in range(2):  # a second run finds nothing left to send
        OutboxDispatcher(svc).run_once()

    def answers_to(address: str) -> list[EmailMessage]:
        return [m for m in mails_to(relay, address) if ANSWER in body_of(m)]

    assert len(answers_to("marija@example.rs")) == 1  # two tickets, one mail
    assert len(answers_to("petar@example.rs")) == 1
    assert [r["kind"] for r in sms_to(server, SMS_CITIZEN) if r["body"].startswith(ANSWER)] == ["reply"]

    with svc.db.session() as s:
        written = s.execute(
            select(Ticket.id, Ticket.subject, Ticket.status, Ticket.first_response_at, Message.delivery_state)
            .join(Message, Message.ticket_id == Ticket.id)
            .where(Message.text == ANSWER, Message.direction == "outbound")
            .order_by(Ticket.id)  # mail and SMS arrive in any order: the newer ticket sends
        ).all()
    assert all(r.status == "open" and r.first_response_at is not None for r in written)
    by_citizen = {
        who: [r.delivery_state for r in written if r.subject in subjects]
        for who, subjects in {
            "marija": ("eUprava ne radi", "Opet eUprava"),
            "petar": ("Prijava na portal",),
            "phone": ("Da li radi eUprava?", "Govorna poruka"),
        }.items()
    }
    assert by_citizen == {"marija": ["shared", "sent"], "petar": ["sent"], "phone": ["shared", "sent"]}
