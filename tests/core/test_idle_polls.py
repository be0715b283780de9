"""The background pollers leave SQLite's write lock alone when they have nothing to do.

SQLite has one writer at a time. Every pass of a poller that opened a write transaction with
nothing to write made a citizen's chat message (or any inbound write) that came meanwhile wait for
it. Here another connection holds the write lock, as a writer in the middle of its transaction
would, and each poller's idle pass must finish without waiting for it (the lock timeout is short,
so a pass that asks for the lock fails with "database is locked" instead).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from channels.dispatcher import OutboxDispatcher
from channels.email.spool_worker import SpoolWorker
from helpdesk.db import Database, Timeouts
from helpdesk.metrics.open_counts import compact
from helpdesk.metrics.warm import RollupWarmer
from helpdesk.outbound import Envelope, SendResult
from helpdesk.privacy.retention import RetentionJob
from helpdesk.services import Services
from helpdesk.sla import SlaChecker
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, reply_to_ticket
from tests.conftest import add_agent, make_services, make_settings


class Sent:
    channel = "email"

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    def send(self, envelope: Envelope) -> SendResult:
        self.sent.append(envelope)
        return SendResult(external_id=f"<out-{envelope.item_id}@helpdesk.localhost>")


@pytest.fixture
def quiet_desk(tmp_path: Path) -> Iterator[Services]:
    """A desk with tickets, a reply already sent and the weekly figures warmed: nothing is due."""
    svc = make_services(make_settings(tmp_path, retention_days="30"))
    svc.db.dispose()
    # A writer waiting for the lock gives up after a fifth of a second: a pass that asks for it
    # while the test holds it fails, instead of going through once the test lets go.
    svc.db = Database(svc.settings.database_url, timeouts=Timeouts(lock=0.2))
    svc.senders["email"] = Sent()
    agent = add_agent(svc, "jelena@helpdesk.localhost", name="Jelena")
    for n in range(3):
        first = receive_inbound(
            svc,
            InboundMessage(
                channel="email",
                sender=Identity("email", f"gradjanin{n}@example.rs"),
                subject="Lična karta",
                text="Kada mogu da podignem ličnu kartu?",
                external_id=f"<in-{n}@x>",
            ),
        )
        reply_to_ticket(svc, first.ticket_reference, Actor.agent(agent), "Sutra posle 10.")
    assert OutboxDispatcher(svc).run_once() == 3  # what is due now is done before the test
    RollupWarmer(svc, 60).run_once()
    RetentionJob(svc).run_once()
    yield svc
    svc.db.dispose()


@contextmanager
def write_lock_held(svc: Services) -> Iterator[None]:
    """Another connection is in a write transaction (BEGIN IMMEDIATE) until the block ends."""
    conn = sqlite3.connect(make_url(svc.db.url).database or "", isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # WAL: readers go on, every other writer waits
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def _outbox(svc: Services) -> Any:
    return OutboxDispatcher(svc).run_once()


def _mail_spool(svc: Services) -> Any:
    return SpoolWorker(svc).run_once()


def _sla(svc: Services) -> Any:
    return asdict(SlaChecker(svc).run_once())


def _warm_up(svc: Services) -> Any:
    result = RollupWarmer(svc, 60).run_once()
    return result.weeks, result.agent_weeks


def _retention(svc: Services) -> Any:
    return RetentionJob(svc).run_once()


IDLE: dict[str, tuple[Callable[[Services], Any], Any]] = {
    "outbox dispatcher": (_outbox, 0),
    "mail spool worker": (_mail_spool, {}),
    "SLA checker": (_sla, {"warned": [], "breached": []}),
    "weekly figures warm-up": (_warm_up, (0, 0)),
    "retention job": (_retention, None),  # ran at start: not due again today
}


@pytest.mark.parametrize("poller", list(IDLE))
def test_an_idle_pass_does_not_wait_for_the_write_lock(quiet_desk: Services, poller: str) -> None:
    run, nothing_done = IDLE[poller]
    with write_lock_held(quiet_desk):
        assert run(quiet_desk) == nothing_done


def test_work_that_comes_due_is_still_done(quiet_desk: Services) -> None:
    """The read before the write finds what is due: a new reply is sent (once), the new ticket's
    open count is folded (once)."""
    svc = quiet_desk
    first = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "nova@example.rs"),
            subject="Pasoš",
            text="Izgubila sam pasoš.",
            external_id="<in-new@x>",
        ),
    )
    agent = add_agent(svc, "marko@helpdesk.localhost", name="Marko")
    reply_to_ticket(svc, first.ticket_reference, Actor.agent(agent), "Prijavite gubitak u MUP-u.")
    assert _outbox(svc) == 1
    assert _outbox(svc) == 0
    assert compact(svc.db) is True  # the new ticket's rows
    assert compact(svc.db) is False  # folded already: no write
