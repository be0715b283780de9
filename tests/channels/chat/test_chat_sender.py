"""The "chat" outbound sender: live to the citizen's room, by email when they have left."""

from __future__ import annotations

from typing import Any

from channels.chat import store as chat_store
from channels.chat.sender import ChatSender
from helpdesk.models import Agent, OutboxItem
from helpdesk.outbound import Envelope, SendResult
from helpdesk.outbox import build_envelope
from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, InboundMessage, ThreadHints, receive_inbound, reply_to_ticket


def add_agent(svc: Services, email: str, name: str) -> int:
    with svc.db.transaction() as s:
        agent = Agent(email=email, name=name, role="agent", password_hash="x")
        s.add(agent)
        s.flush()
        return agent.id


class RecordingMailer:
    channel = "email"

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    def send(self, envelope: Envelope) -> SendResult:
        self.sent.append(envelope)
        return SendResult(external_id="<mail-1@helpdesk.test>")


def chat_ticket(svc: Services, token: str, email: str | None) -> tuple[str, str]:
    hashed = chat_store.token_hash(token)
    now = svc.clock.now()
    chat_store.touch_visitor(svc, hashed, now, email=email, name="Milica")
    result = receive_inbound(
        svc,
        InboundMessage(
            channel="chat",
            sender=Identity("chat", hashed),
            subject="",
            text="Gde je moje rešenje?",
            client_id="c-0000001",
            hints=ThreadHints(continue_open=True),
        ),
    )
    return hashed, result.ticket_reference


def envelope_for_reply(svc: Services, reference: str, agent_id: int, text: str) -> Envelope:
    ref = reply_to_ticket(svc, reference, Actor.agent(agent_id), text)
    with svc.db.session() as s:
        return build_envelope(svc, s, s.get_one(OutboxItem, ref.outbox_id))


def test_reply_goes_live_while_the_page_is_open(store: Services) -> None:
    svc = store
    mailer = RecordingMailer()
    svc.senders["email"] = mailer
    agent_id = add_agent(svc, "ana@helpdesk.test", name="Ana")
    hashed, reference = chat_ticket(svc, "t" * 43, email="milica@example.rs")
    envelope = envelope_for_reply(svc, reference, agent_id, "Pogledajte Moje dokumente.")

    result = ChatSender(svc).send(envelope)
    assert result.state == "delivered"
    events = [e for e in svc.publisher.events if e.namespace == "/chat"]  # type: ignore[attr-defined]
    assert [(e.type, e.room) for e in events] == [("message", f"visitor:{hashed}")]
    payload: dict[str, Any] = events[0].payload()
    assert payload["text"] == "Pogledajte Moje dokumente." and payload["author"] == "Ana"
    assert payload["reference"] == reference and payload["seq"] == 2
    assert mailer.sent == []  # the citizen is reading: no email


def test_reply_follows_the_citizen_by_email_when_they_left(store: Services) -> None:
    svc = store
    mailer = RecordingMailer()
    svc.senders["email"] = mailer
    agent_id = add_agent(svc, "ana@helpdesk.test", name="Ana")
    hashed, reference = chat_ticket(svc, "u" * 43, email="milica@example.rs")
    chat_store.touch_visitor(svc, hashed, svc.clock.now(), present=False)  # tab closed
    envelope = envelope_for_reply(svc, reference, agent_id, "Odgovor stiže mejlom.")

    result = ChatSender(svc).send(envelope)
    assert result.external_id == "<mail-1@helpdesk.test>"
    assert [(m.channel, m.to_address, m.text) for m in mailer.sent] == [
        ("email", "milica@example.rs", "Odgovor stiže mejlom.")
    ]


def test_no_email_left_means_the_reply_waits_in_the_conversation(store: Services) -> None:
    svc = store
    mailer = RecordingMailer()
    svc.senders["email"] = mailer
    agent_id = add_agent(svc, "ana@helpdesk.test", name="Ana")
    hashed, reference = chat_ticket(svc, "v" * 43, email=None)
    chat_store.touch_visitor(svc, hashed, svc.clock.now(), present=False)
    envelope = envelope_for_reply(svc, reference, agent_id, "Vidimo se u četu.")

    result = ChatSender(svc).send(envelope)
    assert result.state == "sent" and mailer.sent == []
    # It is in the history the page asks for when the citizen comes back.
    ticket = chat_store.current_ticket(svc, hashed)
    assert ticket is not None
    texts = [m["text"] for m in chat_store.history(svc, ticket.id, reference, 1)]
    assert texts == ["Vidimo se u četu."]
