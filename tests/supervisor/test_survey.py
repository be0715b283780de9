"""The satisfaction survey: resolving a ticket queues the link; the citizen's answer is stored."""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.events import RecordingPublisher
from helpdesk.models import AuditEvent, OutboxItem, Ticket
from helpdesk.outbound import SendResult, survey_token
from helpdesk.outbox import build_envelope
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, set_status
from tests.conftest import csrf_token_from


class NullSender:
    channel = "email"

    def send(self, envelope):
        return SendResult("x")


def resolved_ticket(svc):
    svc.senders["email"] = NullSender()
    result = receive_inbound(svc, InboundMessage(
        channel="email", sender=Identity("email", "gradjanin@example.rs"),
        subject="Lozinka", text="Ne mogu da se prijavim."))
    set_status(svc, result.ticket_reference, Actor.system("test"), "resolved")
    return result


def test_resolving_queues_a_survey_whose_link_opens_the_form(store):
    client = create_app(store.settings, services=store).test_client()
    result = resolved_ticket(store)
    with store.db.session() as s:
        item = s.scalars(select(OutboxItem).where(OutboxItem.kind == "survey")).one()
        link = build_envelope(store, s, item).links["survey"]
    path = link.removeprefix(store.settings.public_url)
    page = client.get(path, query_string={"lang": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert result.ticket_reference in html
    assert html.count('type="radio"') == 5 and 'name="comment"' in html


def test_an_answer_is_stored_on_the_ticket_with_an_audit_row(store):
    app = create_app(store.settings, services=store)
    store.publisher = RecordingPublisher()
    client = app.test_client()
    result = resolved_ticket(store)
    path = f"/survey/{survey_token(store.settings.secret_key, result.ticket_id)}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    done = client.post(path, data={"csrf_token": token, "score": "4", "comment": "  Brzo i jasno. "},
                       query_string={"lang": "en"})
    assert done.status_code == 200
    assert "has been saved" in done.get_data(as_text=True)
    with store.db.session() as s:
        ticket = s.get(Ticket, result.ticket_id)
        assert (ticket.csat_score, ticket.csat_comment) == (4, "Brzo i jasno.")
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.csat_recorded")).one()
        assert audit.after == {"csat_score": 4, "comment": True}
        assert audit.actor_kind == "contact"
    assert "ticket.csat" in store.publisher.types()
    # one answer per link: it shows the answer, and a second one changes nothing
    again = client.get(path, query_string={"lang": "en"}).get_data(as_text=True)
    assert "answered already: you rated it 4 out of 5" in again and 'type="radio"' not in again
    second = client.post(path, data={"csrf_token": token, "score": "1"})
    assert second.status_code == 409
    with store.db.session() as s:
        assert s.get(Ticket, result.ticket_id).csat_score == 4


def test_links_expire_with_a_friendly_page(store):
    client = create_app(store.settings, services=store).test_client()
    result = resolved_ticket(store)
    now = store.clock.now()
    days = store.settings.survey_link_days
    fresh = survey_token(store.settings.secret_key, result.ticket_id, now - timedelta(days=days - 1))
    stale = survey_token(store.settings.secret_key, result.ticket_id, now - timedelta(days=days + 1))
    assert client.get(f"/survey/{fresh}").status_code == 200
    pages = {
        lang: client.get(f"/survey/{stale}", query_string={"lang": lang})
        for lang in ("en", "sr-Latn", "sr-Cyrl")
    }
    assert {page.status_code for page in pages.values()} == {410}
    assert "valid for 30 days and has expired" in pages["en"].get_data(as_text=True)
    assert "važio je 30 dana i istekao je" in pages["sr-Latn"].get_data(as_text=True)
    assert "важио је 30 дана и истекао је" in pages["sr-Cyrl"].get_data(as_text=True)
    token = csrf_token_from(client.get(f"/survey/{fresh}").get_data(as_text=True))
    late = client.post(f"/survey/{stale}", data={"csrf_token": token, "score": "5"})
    assert late.status_code == 410
    # A link sent before links were dated counts from the ticket's resolution.
    legacy = URLSafeSerializer(store.settings.secret_key, salt="survey").dumps(result.ticket_id)
    assert client.get(f"/survey/{legacy}").status_code == 200
    store.clock.advance(days=days + 1)
    assert client.get(f"/survey/{legacy}").status_code == 410
    with store.db.session() as s:
        assert s.get(Ticket, result.ticket_id).csat_score is None


def test_bad_answers_and_bad_links_are_refused_clearly(store):
    client = create_app(store.settings, services=store).test_client()
    result = resolved_ticket(store)
    path = f"/survey/{survey_token(store.settings.secret_key, result.ticket_id)}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    for score in ("0", "6", "x", ""):
        bad = client.post(path, data={"csrf_token": token, "score": score},
                          query_string={"lang": "en"})
        assert bad.status_code == 422
        assert "choose a score from 1 to 5" in bad.get_data(as_text=True)
    long = client.post(path, data={"csrf_token": token, "score": "3", "comment": "x" * 2001},
                       query_string={"lang": "en"})
    assert long.status_code == 422
    assert client.post(path, data={"score": "5"}).status_code == 400  # no CSRF token
    with store.db.session() as s:
        assert s.get(Ticket, result.ticket_id).csat_score is None
    assert client.get("/survey/forged-token").status_code == 404
    other = survey_token("another-secret", result.ticket_id)
    assert client.get(f"/survey/{other}").status_code == 404
    assert client.get(f"/survey/{survey_token(store.settings.secret_key, 999999)}").status_code == 404

