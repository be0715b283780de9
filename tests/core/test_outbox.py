"""The outbox: claimed once even by competing workers, retried with backoff, failures shown."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select

from channels.dispatcher import OutboxDispatcher
from helpdesk.models import Message, OutboxItem
from helpdesk.outbound import Envelope, PermanentFailure, SendResult, TemporaryFailure
from helpdesk.outbox import backoff, claim_due
from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, reply_to_ticket
from tests.conftest import add_agent


class RecordingSender:
    channel = "email"

    def __init__(self, fail: list[Exception] | None = None) -> None:
        self.sent: list[Envelope] = []
        self.fail = fail or []
        self.lock = threading.Lock()

    def send(self, envelope: Envelope) -> SendResult:
        if self.fail:
            raise self.fail.pop(0)
        with self.lock:
            self.sent.append(envelope)
        return SendResult(external_id=f"<out-{envelope.item_id}@helpdesk.localhost>")


def ticket_with_reply(svc: Services, text: str = "Odgovor") -> tuple[str, int]:
    agent = add_agent(svc, f"a{text}@helpdesk.localhost", name="Jelena")
    first = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "milica@example.rs"),
            sender_name="Milica",
            subject="Lična karta",
            text="Kada mogu da podignem ličnu kartu?",
            external_id="<in-1@x>",
            language="sr",
            script="cyrl",
        ),
    )
    ref = reply_to_ticket(svc, first.ticket_reference, Actor.agent(agent), text)
    return first.ticket_reference, ref.message_id


def test_dispatcher_sends_with_envelope_and_records_delivery(store: Services) -> None:
    sender = RecordingSender()
    store.senders["email"] = sender
    reference, message_id = ticket_with_reply(store)
    assert OutboxDispatcher(store).run_once() == 1
    [envelope] = sender.sent
    assert envelope.ticket_reference == reference and envelope.kind == "reply"
    assert envelope.to_address == "milica@example.rs" and envelope.to_name == "Milica"
    assert envelope.text == "Odgovor" and envelope.agent_name == "Jelena"
    assert (envelope.language, envelope.script) == ("sr", "cyrl")
    assert envelope.thread_external_ids == ("<in-1@x>",)
    with store.db.session() as s:
        message = s.get_one(Message, message_id)
        assert message.delivery_state == "sent"
        assert message.external_id == f"<out-{envelope.item_id}@helpdesk.localhost>"
    assert OutboxDispatcher(store).run_once() == 0  # sent once, never again


def test_temporary_failure_retries_with_backoff_then_permanent_failure_is_visible(
    store: Services,
) -> None:
    sender = RecordingSender(
        fail=[TemporaryFailure("relay down"), PermanentFailure("550 no such user")]
    )
    store.senders["email"] = sender
    _, message_id = ticket_with_reply(store)
    dispatcher = OutboxDispatcher(store)
    dispatcher.run_once()
    with store.db.session() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert (item.status, item.attempts, item.last_error) == ("pending", 1, "relay down")
        assert item.next_attempt_at == store.clock.now() + backoff(1)
    assert dispatcher.run_once() == 0  # not due yet
    store.clock.advance(seconds=31)  # type: ignore[attr-defined]
    dispatcher.run_once()
    with store.db.session() as s:
        item = s.scalars(select(OutboxItem)).one()
        message = s.get_one(Message, message_id)
        assert item.status == "failed"
        assert (message.delivery_state, message.delivery_error) == ("failed", "550 no such user")


def test_no_sender_for_a_channel_fails_visibly(store: Services) -> None:
    _, message_id = ticket_with_reply(store)
    OutboxDispatcher(store).run_once()
    with store.db.session() as s:
        assert s.get_one(Message, message_id).delivery_error == "no sender for channel email"


def test_competing_workers_claim_each_item_once(store: Services) -> None:
    agent = add_agent(store, "w@helpdesk.localhost")
    first = receive_inbound(
        store,
        InboundMessage(
            channel="email", sender=Identity("email", "x@example.rs"), subject="s", text="t"
        ),
    )
    for i in range(40):
        reply_to_ticket(store, first.ticket_reference, Actor.agent(agent), f"odgovor {i}")
    claimed: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        while ids := claim_due(store, f"worker-{n}", limit=3):
            with lock:
                claimed.extend(ids)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 40


def test_stale_claims_are_taken_again(store: Services) -> None:
    store.senders["email"] = sender = RecordingSender()
    ticket_with_reply(store)
    assert claim_due(store, "crashed-worker") != []  # claimed, then the worker died
    assert OutboxDispatcher(store).run_once() == 0
    store.clock.advance(minutes=6)  # type: ignore[attr-defined]
    assert OutboxDispatcher(store).run_once() == 1
    assert len(sender.sent) == 1


def test_sender_crash_does_not_stop_the_dispatcher(store: Services) -> None:
    class Broken:
        channel = "email"

        def send(self, envelope: Any) -> SendResult:
            raise RuntimeError("bug")

    store.senders["email"] = Broken()
    ticket_with_reply(store)
    assert OutboxDispatcher(store).run_once() == 1
    with store.db.session() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "pending" and item.last_error == "RuntimeError"
