"""Incidents in the core: matching (category, keywords in either script), linking and the notice
inside the ticket's own transaction, editing, closing with a message, the preview's counts, the
audit trail and the CLI."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from helpdesk.cli import cli
from helpdesk.incidents.answers import answer_incident, preview_answer
from helpdesk.incidents.core import (
    IncidentDraft,
    close_incident,
    get_incident,
    open_incident,
    update_incident,
)
from helpdesk.incidents.texts import matching_keyword, parse_keywords
from helpdesk.models import AuditEvent, Contact, IncidentTicket, Message, OutboxItem, Ticket
from helpdesk.services import LocalTriage, Services
from helpdesk.tickets import Actor, Identity, InboundMessage, InvalidChange, receive_inbound
from tests.conftest import add_agent

DRAFT = IncidentDraft(
    title="Plaćanje takse ne radi",
    notice_sr_latn="Plaćanje taksi karticom trenutno ne radi. Pokušajte posle 14 časova.",
    notice_en="Card payments for fees are down. Please try again after 14:00.",
    keywords="plaćanje karticom, e-Taksa",
)


class PaymentsTriage(LocalTriage):
    def triage(self, subject: str, text: str) -> Any:
        decision = super().triage(subject, text)
        if "uplat" in f"{subject} {text}".lower():
            return replace(decision, category="payments", queue="payments")
        return decision


def inquiry(svc: Services, text: str, sender: str = "ana@example.rs", **extra: Any) -> str:
    result = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", sender),
            subject=extra.pop("subject", "Pitanje"),
            text=text,
            wants_acknowledgement=extra.pop("ack", True),
            **extra,
        ),
    )
    return result.ticket_reference


def outbox(svc: Services, reference: str) -> list[tuple[str, str]]:
    with svc.db.session() as s:
        rows = s.execute(
            select(OutboxItem.kind, Message.text)
            .join(Ticket, Ticket.id == OutboxItem.ticket_id)
            .outerjoin(Message, Message.id == OutboxItem.message_id)
            .where(Ticket.reference == reference)
            .order_by(OutboxItem.id)
        ).all()
    return [(kind, text or "") for kind, text in rows]


def test_keywords_match_in_either_script_and_without_diacritics() -> None:
    keywords = ", ".join(parse_keywords("plaćanje karticom,  e-Taksa , PLAĆANJE KARTICOM"))
    assert keywords == "plaćanje karticom, e-Taksa"  # duplicates (normalized) dropped
    assert matching_keyword(keywords, "Ne radi ПЛАЋАЊЕ КАРТИЦОМ на порталу")
    assert matching_keyword(keywords, "placanje karticom ne prolazi")
    assert matching_keyword(keywords, "Gde da platim eTaksa?") is None  # whole words only
    assert matching_keyword(keywords, "problem sa e-taksom") is None


def test_a_matching_inquiry_is_linked_and_gets_the_notice_instead_of_the_ack(store: Services) -> None:
    svc = store
    chief = add_agent(svc, "sef@helpdesk.localhost", "supervisor")
    incident = open_incident(svc, Actor.agent(chief), DRAFT)
    cyrillic = inquiry(svc, "Поштовани, плаћање картицом не ради већ два сата.", subject="Такса")
    english = inquiry(svc, "Hi, card payment fails. Is e-Taksa down?", sender="john@example.com")
    other = inquiry(svc, "Kako da promenim adresu?", sender="pera@example.rs")
    listed = inquiry(svc, "plaćanje karticom ne radi", sender="list@example.rs", ack=False)

    notice_cyrl = "Плаћање такси картицом тренутно не ради. Покушајте после 14 часова."
    assert outbox(svc, cyrillic) == [("incident", notice_cyrl)]  # Cyrillic: transliterated
    assert outbox(svc, english) == [("incident", DRAFT.notice_en)]
    assert outbox(svc, other) == [("ack", "")]  # the usual acknowledgement, as before
    assert outbox(svc, listed) == []  # no automatic answer wanted: linked, nothing sent
    with svc.db.session() as s:
        linked = dict(
            s.execute(
                select(Ticket.reference, IncidentTicket.matched_by).join(
                    IncidentTicket, IncidentTicket.ticket_id == Ticket.id
                )
            ).all()
        )
        audited = s.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == incident, AuditEvent.ticket_id.is_(None))
        ).all()
    assert linked == {cyrillic: "keyword", english: "keyword", listed: "keyword"}
    assert get_incident(svc, incident).linked == 3
    assert list(audited) == ["incident.opened"]


def test_category_matching_scheduled_and_closed_incidents(services: Services) -> None:
    svc = services
    svc.triage = PaymentsTriage()
    chief = Actor.agent(add_agent(svc, "sef@helpdesk.localhost", "supervisor"))
    later = svc.clock.now() + timedelta(hours=2)
    scheduled = open_incident(svc, chief, replace(DRAFT, keywords="", category="payments", starts_at=later))
    before = inquiry(svc, "Uplata nije prošla", sender="a@example.rs")
    assert outbox(svc, before) == [("ack", "")]  # not started yet: no notice
    svc.clock.advance(hours=3)  # type: ignore[attr-defined]
    during = inquiry(svc, "Uplata nije prošla", sender="b@example.rs")
    assert outbox(svc, during)[0][0] == "incident"
    close_incident(svc, scheduled, chief)
    after = inquiry(svc, "Uplata nije prošla", sender="c@example.rs")
    assert outbox(svc, after) == [("ack", "")]
    with pytest.raises(InvalidChange):
        close_incident(svc, scheduled, chief)  # closed already


def test_editing_closing_with_a_message_and_the_preview(services: Services) -> None:
    svc = services
    chief = Actor.agent(add_agent(svc, "sef@helpdesk.localhost", "supervisor"))
    incident = open_incident(svc, chief, DRAFT)
    with pytest.raises(InvalidChange):
        update_incident(svc, incident, chief, replace(DRAFT, keywords="", category=None))
    update_incident(svc, incident, chief, replace(DRAFT, notice_en="Fixed text."))
    first = inquiry(svc, "card payment: e-Taksa is down?", sender="x@example.com")
    receive_inbound(
        svc,
        InboundMessage(
            channel="sms",
            sender=Identity("phone", "+381641234567"),
            subject="",
            text="e-Taksa ne radi",
            wants_acknowledgement=True,
        ),
    )
    with svc.db.transaction() as s:
        for contact in s.scalars(select(Contact)):
            contact.sms_opt_out = True  # both; only the SMS one counts as opted out
    preview = preview_answer(svc, incident, None)
    assert (preview.total, preview.by_channel, preview.opted_out) == (2, {"email": 1, "sms": 1}, 1)
    assert preview.unreachable == 1  # no channel is loaded here: email has no sender
    assert outbox(svc, first) == [("incident", "Fixed text.")]
    sent = close_incident(svc, incident, chief, "Plaćanje ponovo radi.")
    assert sent == 2
    assert outbox(svc, first)[-1] == ("reply", "Plaćanje ponovo radi.")
    with pytest.raises(InvalidChange):
        answer_incident(svc, incident, chief, "x", "n-1", None)  # closed: no more answers
    with svc.db.session() as s:
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_id == incident, AuditEvent.ticket_id.is_(None))
            .order_by(AuditEvent.id)
        ).all()
    assert list(actions) == ["incident.opened", "incident.updated", "incident.closed", "incident.closing"]


def test_cli_opens_lists_and_closes(services: Services, app: Any) -> None:
    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app)

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args), obj=info, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    out = run(
        "incident",
        "open",
        "--title",
        "eUprava down",
        "--keywords",
        "eUprava",
        "--notice-sr-latn",
        "eUprava ne radi.",
        "--ends",
        "2026-11-23 13:00",
    )
    assert out.strip() == "opened incident 1"
    listing = run("incident", "list")
    assert "eUprava down" in listing and "2026-11-23 13:00" in listing
    inquiry(services, "Da li radi eUprava?")
    assert run("incident", "close", "1", "--message", "Radi.") == (
        "closed incident 1; the message is queued on 1 ticket(s)\n"
    )
    assert run("incident", "list").strip() == "no open incidents"
    bad = runner.invoke(cli, ["incident", "open", "--title", "x", "--notice-sr-latn", "y"], obj=info)
    assert bad.exit_code == 2 and "category or at least one keyword" in bad.output
