"""Viber channel helpers and fixtures: an app with the channel on, wired to a local Viber API
double (conftest.py re-exports the fixtures; tests import the helpers from here)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from viber_api_double import FIXTURES, ViberDouble

from channels.dispatcher import OutboxDispatcher
from channels.viber.signature import HEADER, sign
from helpdesk import create_app
from helpdesk.auth.accounts import create_token
from helpdesk.models import Agent, Message, Queue, Ticket
from tests.conftest import add_agent, make_services, make_settings

AUTH_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"
USER = "01234567890A="


def fixture_body(name: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    body.update(changes)
    return body


@pytest.fixture
def double() -> Iterator[ViberDouble]:
    d = ViberDouble(auth_token=AUTH_TOKEN).start()
    yield d
    d.stop()


@pytest.fixture
def viber_db_url(tmp_path: Path) -> str:
    """SQLite by default; a module overrides it with `store_url` to run on PostgreSQL too."""
    return f"sqlite:///{tmp_path / 'helpdesk.db'}"


@pytest.fixture
def svc(tmp_path: Path, double: ViberDouble, viber_db_url: str) -> Iterator[Any]:
    settings = make_settings(
        tmp_path,
        viber_db_url,
        channels=("channels.viber",),
        viber_auth_token=AUTH_TOKEN,
        viber_api_base=double.api_base,
        viber_sender_name="Kontakt centar",
    )
    services = make_services(settings)
    yield services
    services.db.dispose()


@pytest.fixture
def app(svc: Any) -> Any:
    return create_app(svc.settings, services=svc)


@pytest.fixture
def post(app: Any) -> Callable[..., Any]:
    """post(body) as Viber would: JSON signed with the auth token (or a given signature)."""
    client = app.test_client()

    def run(body: dict[str, Any] | bytes, signature: str | None = "sign") -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers[HEADER] = sign(AUTH_TOKEN, raw)
        elif signature is not None:
            headers[HEADER] = signature
        return client.post("/channels/viber/webhook", data=raw, headers=headers)

    return run


@pytest.fixture
def dispatch(svc: Any) -> Callable[[], int]:
    return lambda: OutboxDispatcher(svc).run_once()


def counts(svc: Any) -> tuple[int, int]:
    with svc.db.session() as s:
        return s.scalar(select(func.count(Ticket.id))), s.scalar(select(func.count(Message.id)))


def only_ticket(svc: Any) -> Ticket:
    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        s.expunge(ticket)
        return ticket


def api_reply(app: Any, svc: Any, reference: str, text: str) -> Any:
    """The agent answers through the REST API (as the console's reply does, via the same core)."""
    with svc.db.transaction() as s:
        agent = s.scalars(select(Agent).where(Agent.email == "ana@helpdesk.localhost")).first()
    if agent is None:
        add_agent(svc, "ana@helpdesk.localhost")
    with svc.db.transaction() as s:
        agent = s.scalars(select(Agent).where(Agent.email == "ana@helpdesk.localhost")).one()
        agent.queues = list(s.scalars(select(Queue)))
        token = create_token(s, agent, svc.clock.now())
    return app.test_client().post(
        f"/api/v1/tickets/{reference}/messages",
        json={"body": text},
        headers={"Authorization": f"Bearer {token}"},
    )
