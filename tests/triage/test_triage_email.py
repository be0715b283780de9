"""End to end: a citizen's email, sent with smtplib to the real SMTP server, is triaged and routed."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from channels.email.server import SmtpService
from channels.email.spool_worker import SpoolWorker
from helpdesk import create_app
from helpdesk.models import Agent, Queue, Ticket
from helpdesk.services import Services
from helpdesk.triage_service import ModelTriage
from tests.conftest import add_agent, make_services, make_settings
from triage.datasets import read_seed
from triage.store import ModelStore
from triage.training import train_version

SUPPORT = "podrska@helpdesk.localhost"


@pytest.fixture
def smtp_app(tmp_path: Path) -> Iterator[tuple[Services, SmtpService]]:
    settings = make_settings(tmp_path, triage="model", channels=("channels.email",), smtp_port=0)
    train_version(ModelStore(settings.data_dir, settings.secret_key), read_seed())
    svc = make_services(settings)
    create_app(settings, services=svc)  # HELPDESK_TRIAGE=model puts the model service in place
    assert isinstance(svc.triage, ModelTriage)
    smtp = SmtpService(svc, "127.0.0.1", 0)
    smtp.start()
    yield svc, smtp
    smtp.stop()
    svc.db.dispose()


def _send(smtp: SmtpService, sender: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, SUPPORT, subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=30) as client:
        client.send_message(msg)
    SpoolWorker(smtp.svc).run_once()  # the 250 means spooled; the worker makes the ticket


def _ticket_from(svc: Services, subject: str) -> Ticket:
    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.subject == subject)).one()
        s.expunge(ticket)
        return ticket


def test_emails_are_classified_routed_and_assigned(smtp_app: tuple[Services, SmtpService]) -> None:
    svc, smtp = smtp_app
    agent = add_agent(svc, "milica@helpdesk.localhost", online=True, capacity=5)
    with svc.db.transaction() as s:
        queue = s.scalars(select(Queue).where(Queue.name == "accounts")).one()
        queue.members.append(s.get_one(Agent, agent))

    _send(smtp, "petar@example.rs", "Не могу да се пријавим", "Заборавио сам лозинку за еУправу.")
    _send(smtp, "jelena@example.rs", "Porez", "Resenje za porez na imovinu ima pogresan iznos, hitno!")
    _send(smtp, "x@example.rs", "qwx", "zzkj plimf vrrr")

    login = _ticket_from(svc, "Не могу да се пријавим")
    assert (login.category, login.queue, login.assignee_id) == ("account_login", "accounts", agent)
    assert (login.language, login.script) == ("sr", "cyrl")
    tax = _ticket_from(svc, "Porez")
    assert (tax.category, tax.queue, tax.priority) == ("taxes", "payments", "high")
    assert tax.assignee_id is None  # nobody is online in payments
    unsure = _ticket_from(svc, "qwx")
    assert unsure.queue == "triage"
