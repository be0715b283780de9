"""No demo ticket ends with "no sender for channel": every demo ticket can be answered, and an
answer on each channel leaves the outbox as sent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from channels.dispatcher import OutboxDispatcher
from helpdesk import create_app
from helpdesk.demo import ensure_base, generate
from helpdesk.demo_texts import CHANNEL_WEIGHTS
from helpdesk.models import Agent, OutboxItem, Ticket
from helpdesk.outbox import can_reach
from helpdesk.settings import DEFAULT_CHANNELS
from helpdesk.tickets import Actor, reply_to_ticket
from tests.conftest import make_services, make_settings


def test_every_demo_ticket_can_be_answered_on_its_channel(tmp_path: Path) -> None:
    svc = make_services(make_settings(tmp_path, channels=DEFAULT_CHANNELS))
    create_app(svc.settings, services=svc)  # the default channels register their senders
    ensure_base(svc)
    generate(svc, 100, 4, seed=7)
    first_of: dict[str, str] = {}
    with svc.db.session() as s:
        for ticket in s.scalars(select(Ticket)):
            addresses = {i.kind: i.value for i in ticket.contact.identities}
            assert can_reach(svc, ticket.channel, addresses), (ticket.reference, ticket.channel)
            first_of.setdefault(ticket.channel, ticket.reference)
        agent_id = s.scalars(select(Agent.id)).first()
    assert agent_id is not None and set(first_of) == set(CHANNEL_WEIGHTS)
    for reference in first_of.values():
        reply_to_ticket(svc, reference, Actor.agent(agent_id), "Odgovor.")
    OutboxDispatcher(svc).run_once()
    with svc.db.session() as s:
        outcomes = {(i.channel, i.status, i.last_error) for i in s.scalars(select(OutboxItem))}
    assert outcomes == {(channel, "sent", None) for channel in first_of}
    svc.db.dispose()
