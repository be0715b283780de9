"""The notices a chat page catches up with through ``history`` (channels/chat/notices.py): the
survey invitation stands while it can be answered, with the id and link of the live one."""

from __future__ import annotations

from typing import Any

from channels.chat import store as chat_store
from channels.chat.notices import standing_notices
from channels.chat.sender import ChatSender
from helpdesk.models import OutboxItem
from helpdesk.outbox import build_envelope
from helpdesk.services import FixedClock, Services
from helpdesk.survey import record_satisfaction
from helpdesk.tickets import Actor, Identity, InboundMessage, ThreadHints, receive_inbound, set_status


def chat_ticket(svc: Services, token: str) -> tuple[str, str]:
    hashed = chat_store.token_hash(token)
    chat_store.touch_visitor(svc, hashed, svc.clock.now())
    result = receive_inbound(
        svc,
        InboundMessage(
            channel="chat",
            sender=Identity("chat", hashed),
            subject="",
            text="Kako da zakažem termin?",
            client_id="c-0000001",
            hints=ThreadHints(latest_on_channel=True),
        ),
    )
    return hashed, result.ticket_reference


def notices(svc: Services, hashed: str) -> list[dict[str, Any]]:
    ticket = chat_store.current_ticket(svc, hashed)
    assert ticket is not None
    return standing_notices(svc, ticket)


def live_notice(svc: Services, hashed: str) -> dict[str, Any]:
    """What ChatSender emits for the ticket's latest survey item (as the dispatcher would)."""
    svc.publisher.events.clear()  # type: ignore[attr-defined]
    with svc.db.session() as s:
        item = s.query(OutboxItem).filter_by(kind="survey").order_by(OutboxItem.id.desc()).first()
        assert item is not None
        ChatSender(svc).send(build_envelope(svc, s, item))
    sent = [e for e in svc.publisher.events if e.type == "notice"]  # type: ignore[attr-defined]
    assert [e.room for e in sent] == [f"visitor:{hashed}"]
    payload: dict[str, Any] = sent[0].payload()
    payload.pop("type", None)
    return payload


def test_a_resolved_conversation_stands_with_the_very_survey_sent_live(store: Services) -> None:
    svc = store
    svc.senders["chat"] = ChatSender(svc)
    hashed, reference = chat_ticket(svc, "s" * 43)
    assert notices(svc, hashed) == []  # open: nothing but messages

    set_status(svc, reference, Actor.system("test"), "resolved")
    standing = notices(svc, hashed)
    assert len(standing) == 1 and standing[0]["kind"] == "survey"
    assert standing[0]["url"].startswith(f"{svc.settings.public_url}/survey/")
    # The same id and link as the live notice: a page that got both shows it once.
    assert live_notice(svc, hashed) == standing[0]

    set_status(svc, reference, Actor.system("test"), "closed")  # still unanswered: still standing
    assert notices(svc, hashed) == standing

    ticket = chat_store.current_ticket(svc, hashed)
    assert ticket is not None
    record_satisfaction(svc, ticket.id, 5, None)
    assert notices(svc, hashed) == []  # answered: nothing left to invite to


def test_a_reopened_ticket_or_an_old_resolutions_survey_does_not_stand(store: Services) -> None:
    svc = store
    svc.senders["chat"] = ChatSender(svc)
    assert isinstance(svc.clock, FixedClock)
    hashed, reference = chat_ticket(svc, "r" * 43)
    set_status(svc, reference, Actor.system("test"), "resolved")
    svc.clock.advance(minutes=5)
    set_status(svc, reference, Actor.system("test"), "open")
    assert notices(svc, hashed) == []  # open again: the survey is not the news
    svc.clock.advance(minutes=5)
    set_status(svc, reference, Actor.system("test"), "closed")  # closed without a new survey
    assert notices(svc, hashed) == []


def test_an_expired_survey_link_does_not_stand(store: Services) -> None:
    svc = store
    svc.senders["chat"] = ChatSender(svc)
    assert isinstance(svc.clock, FixedClock)
    hashed, reference = chat_ticket(svc, "e" * 43)
    set_status(svc, reference, Actor.system("test"), "resolved")
    svc.clock.advance(days=svc.settings.survey_link_days - 1)
    assert len(notices(svc, hashed)) == 1
    svc.clock.advance(days=2)
    assert notices(svc, hashed) == []
