"""JMBGs stored before masking existed are sealed afterwards; survey comments are masked too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from helpdesk.access import load_viewer
from helpdesk.cli.privacy import seal_existing_command
from helpdesk.models import AuditEvent, Message, SensitiveValue, Ticket
from helpdesk.privacy.reveal import reveal
from helpdesk.services import Services
from helpdesk.survey.operations import record_satisfaction
from helpdesk.ticket_search import search_ticket_ids
from helpdesk.tickets import Identity, InboundMessage, receive_inbound
from tests.conftest import add_agent

VALID = "0101990710008"
MASKED = "0101990••••••"


def test_old_messages_are_sealed_once_and_leave_the_search_index(app: Any, services: Services) -> None:
    result = receive_inbound(
        services,
        InboundMessage("email", Identity("email", "petar@example.rs"), f"JMBG {VALID}", "x"),
    )
    # What a database from before this feature holds: the full number in text and subject, and
    # in the search index (written through the ORM, so the index follows).
    with services.db.transaction() as s:
        s.execute(delete(SensitiveValue))
        message = s.get_one(Message, result.message_id)
        message.text = f"Moj JMBG je {VALID}, hvala."
        s.get_one(Ticket, result.ticket_id).subject = f"JMBG {VALID}"
    with services.db.session() as s:
        assert search_ticket_ids(s, VALID) == [result.ticket_id]

    runner = app.test_cli_runner()
    first = runner.invoke(seal_existing_command, [])
    assert first.exit_code == 0, first.output
    assert "sealed 1 number(s) in 1 message(s); masked 1 subject(s)" in first.output
    with services.db.session() as s:
        message = s.get_one(Message, result.message_id)
        assert message.text == f"Moj JMBG je {MASKED}, hvala."
        assert s.get_one(Ticket, result.ticket_id).subject == f"JMBG {MASKED}"
        assert search_ticket_ids(s, VALID) == []
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("privacy.%"))).all() == [
            "privacy.sealed_existing"
        ]
    supervisor = load_viewer(services, add_agent(services, "sara@helpdesk.localhost", "supervisor"))
    assert supervisor is not None
    assert reveal(services, supervisor, result.message_id)[1] == [
        VALID
    ]  # once, though text and subject held it

    again = runner.invoke(seal_existing_command, [])
    assert "sealed 0 number(s) in 0 message(s); masked 0 subject(s)" in again.output


def test_a_survey_comment_is_stored_masked(services: Services) -> None:
    result = receive_inbound(
        services, InboundMessage("email", Identity("email", "mila@example.rs"), "Izvod", "x")
    )
    record_satisfaction(services, result.ticket_id, 5, f"Hvala! Moj JMBG {VALID}, broj 0101990710006")
    with services.db.session() as s:
        comment = s.get_one(Ticket, result.ticket_id).csat_comment
    assert comment == f"Hvala! Moj JMBG {MASKED}, broj 0101990710006"
