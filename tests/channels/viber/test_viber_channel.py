"""The Viber channel end to end: signed webhooks in, tickets in the core, replies out to a local
double of the Viber REST API, delivery callbacks, opt-out (issue 17)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from viber_helpers import AUTH_TOKEN, USER, api_reply, counts, fixture_body

from channels.viber.signature import sign
from helpdesk.models import Contact, Message, Ticket
from tests.conftest import login


@pytest.fixture
def viber_db_url(store_url: str) -> str:  # SQLite and PostgreSQL
    return store_url


def test_forged_or_unsigned_callbacks_get_403_and_store_nothing(svc: Any, post: Any) -> None:
    body = fixture_body("message_text")
    raw = json.dumps(body).encode()
    assert post(body, signature=None).status_code == 403
    assert post(body, signature="0" * 64).status_code == 403
    forged = post(body, signature=sign("not-our-token", raw))
    assert forged.status_code == 403
    assert "X-Viber-Content-Signature" in forged.get_json()["error"]
    # signed for another body (a replay with the text changed)
    assert post(raw.replace(b"Dobar dan", b"Zdravo"), signature=sign(AUTH_TOKEN, raw)).status_code == 403
    assert counts(svc) == (0, 0)
    # signed but not a Viber callback
    assert post(b"{not json").status_code == 400
    assert post({"no": "event"}).status_code == 400
    assert post(fixture_body("message_text", sender={"name": "x"})).status_code == 400
    assert counts(svc) == (0, 0)
    assert post(fixture_body("webhook")).status_code == 200  # Viber's set_webhook check


def test_signed_message_becomes_one_ticket_and_is_acknowledged(
    svc: Any, post: Any, double: Any, dispatch: Any
) -> None:
    body = fixture_body("message_text")
    first = post(body)
    assert first.status_code == 200, first.get_data(as_text=True)
    again = post(body)  # Viber retries a callback it thinks failed
    assert again.get_json()["duplicate"] is True
    assert counts(svc) == (1, 1)
    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.channel == "viber"
        assert ticket.reference == first.get_json()["ticket"]
        message = ticket.messages[0]
        assert message.text.startswith("Dobar dan, nisam dobila potvrdu")
        assert message.external_id == str(body["message_token"])
        contact = s.get_one(Contact, ticket.contact_id)
        assert contact.name == "Jelena Petrović"
        assert contact.identity("chat") == f"viber:{USER}"
    # a second message from the same user continues the open ticket
    more = {"type": "text", "text": "Broj uplate je 123."}
    post(fixture_body("message_text", message_token=99, message=more))
    assert counts(svc) == (1, 2)
    assert dispatch() == 1  # the acknowledgement
    [ack] = double.messages()
    assert ack["receiver"] == USER
    assert ack["type"] == "text" and ack["sender"] == {"name": "Kontakt centar"}
    assert first.get_json()["ticket"] in ack["text"]
    assert double.sent[0].token == AUTH_TOKEN


def test_agent_reply_reaches_viber_and_delivery_callbacks_update_it(
    app: Any, svc: Any, post: Any, double: Any, dispatch: Any
) -> None:
    reference = post(fixture_body("message_text")).get_json()["ticket"]
    dispatch()  # the acknowledgement
    response = api_reply(app, svc, reference, "Poštovana, potvrdu ćete dobiti mejlom do petka.")
    assert response.status_code == 201, response.get_data(as_text=True)
    message_id = response.get_json()["id"]
    assert dispatch() == 1
    reply = double.messages()[-1]
    assert reply["receiver"] == USER
    assert reply["text"].startswith("Poštovana, potvrdu ćete dobiti mejlom do petka.")
    assert reply["text"].endswith(f"[{reference}]")
    assert double.sent[-1].token == AUTH_TOKEN
    with svc.db.session() as s:
        sent = s.get_one(Message, message_id)
        assert sent.delivery_state == "sent"
        token = sent.external_id
    assert token and token.isdigit()

    def state() -> str | None:
        with svc.db.session() as s:
            return s.get_one(Message, message_id).delivery_state

    assert post(fixture_body("delivered", message_token=int(token))).status_code == 200
    assert state() == "delivered"
    assert post(fixture_body("seen", message_token=int(token))).status_code == 200
    assert state() == "seen"
    post(fixture_body("delivered", message_token=int(token)))  # late: does not go backwards
    assert state() == "seen"
    assert post(fixture_body("seen", message_token=1)).get_json()["status"] == "ignored"

    # the console shows the Viber ticket like any other, the channel named
    client = app.test_client()
    login(client, svc, role="supervisor")
    page = client.get(f"/console/tickets/{reference}?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Reply to the citizen (by Viber)" in html
    assert "seen" in html


