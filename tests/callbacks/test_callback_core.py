"""The callback operations on both databases: windows, retries, outcomes, who sees the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.access import load_viewer
from helpdesk.callbacks import CallbackRequest, record_outcome, request_callback
from helpdesk.callbacks.queue import pending_queue
from helpdesk.callbacks.windows import Window, offered_windows
from helpdesk.models import Agent, Callback, Queue
from helpdesk.services import Services
from helpdesk.tickets import Actor, InvalidChange, set_queue
from tests.conftest import add_agent


def test_no_answer_walks_the_chosen_windows_then_gives_up(store: Services) -> None:
    offered = offered_windows(store)  # Monday 10:00 in Belgrade
    assert [(w.start.hour, w.end.hour) for w in offered[:4]] == [(9, 11), (11, 13), (13, 15), (7, 9)]  # UTC
    ref = request_callback(
        store, CallbackRequest(channel="web", phone="064 123 4567", windows=(offered[2], offered[0]))
    )
    assert ref.window == offered[0]  # the earliest chosen window first
    heard = [(e.room, e.data) for e in store.publisher.events if e.type == "callback.updated"]  # type: ignore[attr-defined]
    rooms = {room for room, _ in heard}
    assert rooms == {"console", "queue:triage", f"ticket:{ref.ticket_reference}"}
    assert all(set(data) == {"reference", "callback_id", "status"} for _, data in heard)  # no number
    agent = add_agent(store, "ana@helpdesk.localhost", "supervisor")
    first = record_outcome(store, ref.id, Actor.agent(agent), "no_answer")
    assert (first.status, first.window) == ("pending", offered[2])  # the citizen's next choice
    store.clock.advance(hours=5)  # 15:00 local: none of the citizen's windows is left
    second = record_outcome(store, ref.id, Actor.agent(agent), "no_answer")
    assert second.status == "pending" and second.window == offered[3]  # the next one on offer
    third = record_outcome(store, ref.id, Actor.agent(agent), "no_answer")
    assert third.status == "no_answer"  # HELPDESK_CALLBACK_MAX_ATTEMPTS (3) unanswered: out of the queue
    with pytest.raises(InvalidChange):
        record_outcome(store, ref.id, Actor.agent(agent), "reached")


def test_windows_outside_business_hours_are_refused(store: Services) -> None:
    window = offered_windows(store)[0]
    night = Window(window.start - timedelta(hours=10), window.start - timedelta(hours=8))
    with pytest.raises(InvalidChange):
        request_callback(store, CallbackRequest(channel="web", phone="064 123 4567", windows=(night,)))
    with pytest.raises(InvalidChange):
        request_callback(store, CallbackRequest(channel="web", phone="064 123 4567", windows=()))
    with store.db.session() as s:
        assert s.scalars(select(Callback)).all() == []


def test_the_queue_shows_an_agent_only_the_callbacks_of_tickets_it_may_see(store: Services) -> None:
    windows = offered_windows(store)
    one = request_callback(store, CallbackRequest(channel="web", phone="0641111111", windows=(windows[1],)))
    two = request_callback(store, CallbackRequest(channel="web", phone="0642222222", windows=(windows[0],)))
    set_queue(store, one.ticket_reference, Actor.system("test"), "accounts")
    ana = add_agent(store, "ana@helpdesk.localhost")
    boss = add_agent(store, "sara@helpdesk.localhost", "supervisor")
    with store.db.transaction() as s:
        s.get_one(Agent, ana).queues = [s.scalars(select(Queue).where(Queue.name == "accounts")).one()]
    everything, total = pending_queue(store, load_viewer(store, boss))  # type: ignore[arg-type]
    assert [i.reference for i in everything] == [two.ticket_reference, one.ticket_reference] and total == 2
    mine, total = pending_queue(store, load_viewer(store, ana))  # type: ignore[arg-type]
    assert [i.reference for i in mine] == [one.ticket_reference] and total == 1


def test_the_summary_is_in_the_citizens_script(store: Services) -> None:
    """The request's summary is the citizen's own message in their conversation (the chat shows it
    back to them): Cyrillic for a Cyrillic page, Latin for a Latin one."""
    from helpdesk.models import Message

    window = offered_windows(store)[0]
    texts = {}
    for phone, script in (("064 123 4567", "cyrl"), ("064 765 4321", "latn")):
        ref = request_callback(
            store,
            CallbackRequest(channel="web", phone=phone, windows=(window,), language="sr", script=script),
        )
        with store.db.session() as s:
            texts[script] = s.scalar(
                select(Message.text)
                .join(Callback, Callback.message_id == Message.id)
                .where(Callback.id == ref.id)
            )
    assert texts["cyrl"].startswith(
        "Молим вас да ме позовете на број +381641234567. Термини: Данас, понедељак"
    )
    assert texts["latn"].startswith(
        "Molim vas da me pozovete na broj +381647654321. Termini: Danas, ponedeljak"
    )
