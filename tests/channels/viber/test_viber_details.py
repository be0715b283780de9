"""The Viber channel's details on SQLite: the welcome and language choice, opt-out, Viber's
status codes, failed deliveries, pictures, and the channel staying off without a token."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from viber_api_double import FIXTURES
from viber_helpers import AUTH_TOKEN, USER, api_reply, counts, fixture_body, only_ticket

from helpdesk import create_app
from helpdesk.models import Attachment, Message, OutboxItem
from tests.conftest import make_services, make_settings


def test_conversation_started_welcomes_with_a_language_choice(svc: Any, post: Any, double: Any) -> None:
    response = post(fixture_body("conversation_started"))
    assert response.status_code == 200
    welcome = response.get_json()
    assert welcome["type"] == "text" and "receiver" not in welcome
    assert "Izaberite jezik" in welcome["text"] and "Choose your language" in welcome["text"]
    buttons = welcome["keyboard"]["Buttons"]
    assert [b["ActionBody"] for b in buttons] == ["lang:sr-Latn", "lang:sr-Cyrl", "lang:en"]
    assert [b["Text"] for b in buttons] == ["Srpski (latinica)", "Српски (ћирилица)", "English"]
    assert all(b["ActionType"] == "reply" for b in buttons)
    assert sum(b["Columns"] for b in buttons) <= 6  # one row on Viber's 6-column grid
    assert counts(svc) == (0, 0)

    # the citizen taps "Српски (ћирилица)": no ticket, a thanks in Cyrillic, and the choice sticks
    assert post(fixture_body("message_language")).status_code == 200
    assert counts(svc) == (0, 0)
    [thanks] = double.messages()
    assert thanks["receiver"] == USER and thanks["text"].startswith("Хвала")
    post(fixture_body("message_text"))
    ticket = only_ticket(svc)
    assert (ticket.language, ticket.script) == ("sr", "cyrl")


def test_failed_callback_marks_the_reply_failed_with_viber_reason(
    app: Any, svc: Any, post: Any, dispatch: Any
) -> None:
    reference = post(fixture_body("message_text")).get_json()["ticket"]
    message_id = api_reply(app, svc, reference, "Odgovor.").get_json()["id"]
    dispatch()
    with svc.db.session() as s:
        token = s.get_one(Message, message_id).external_id
    post(fixture_body("failed", message_token=int(token)))
    with svc.db.session() as s:
        message = s.get_one(Message, message_id)
        assert message.delivery_state == "failed"
        assert message.delivery_error == "Viber could not deliver it: failure description"


def test_unsubscribed_user_gets_no_reply_and_the_ticket_says_why(
    app: Any, svc: Any, post: Any, double: Any, dispatch: Any
) -> None:
    reference = post(fixture_body("message_text")).get_json()["ticket"]
    dispatch()
    before = len(double.messages())
    assert post(fixture_body("unsubscribed")).status_code == 200
    message_id = api_reply(app, svc, reference, "Odgovor koji ne sme da ode.").get_json()["id"]
    dispatch()
    assert len(double.messages()) == before  # nothing reached Viber
    with svc.db.session() as s:
        message = s.get_one(Message, message_id)
        item = s.scalars(select(OutboxItem).where(OutboxItem.message_id == message_id)).one()
        assert message.delivery_state == "failed"
        assert item.status == "failed"
        assert "unsubscribed from our Viber account" in (item.last_error or "")
    # writing again subscribes again (Viber's rule): the next reply goes out
    post(fixture_body("subscribed"))
    api_reply_id = api_reply(app, svc, reference, "Ponovo tu.").get_json()["id"]
    dispatch()
    assert double.messages()[-1]["text"].startswith("Ponovo tu.")
    with svc.db.session() as s:
        assert s.get_one(Message, api_reply_id).delivery_state == "sent"


def test_viber_status_codes_map_to_permanent_and_temporary_failures(
    app: Any, svc: Any, post: Any, double: Any, dispatch: Any
) -> None:
    reference = post(fixture_body("message_text")).get_json()["ticket"]
    double.answers.append({"status": 12, "status_message": "tooManyRequests"})  # the ack
    dispatch()
    with svc.db.session() as s:
        ack = s.scalars(select(OutboxItem).where(OutboxItem.kind == "ack")).one()
        assert ack.status == "pending" and "too many requests" in (ack.last_error or "")
    double.answers.append(json.loads((FIXTURES / "send_message_not_subscribed.json").read_text()))
    message_id = api_reply(app, svc, reference, "Odgovor.").get_json()["id"]
    dispatch()
    with svc.db.session() as s:
        item = s.scalars(select(OutboxItem).where(OutboxItem.message_id == message_id)).one()
        assert item.status == "failed" and "unsubscribed" in (item.last_error or "")
    assert app.extensions["viber_channel"].users.is_unsubscribed(USER)


def test_picture_is_fetched_and_kept_with_its_caption(svc: Any, post: Any, double: Any) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"
    url = double.add_media("0a2d.jpg", jpeg, "image/jpeg")
    body = fixture_body("message_picture")
    body["message"]["media"] = url
    assert post(body).status_code == 200
    with svc.db.session() as s:
        message = s.scalars(select(Message)).one()
        assert message.text == "Ovo je poruka o grešci"
        [attachment] = s.scalars(select(Attachment)).all()
        assert (attachment.filename, attachment.content_type, attachment.size) == (
            "greska.jpg", "image/jpeg", len(jpeg)
        )
    # media that cannot be fetched: the link is kept instead of losing the message
    body = fixture_body("message_picture", message_token=77)
    body["message"]["media"] = double.url + "/media/gone.jpg"
    post(body)
    with svc.db.session() as s:
        text = s.scalars(select(Message).where(Message.external_id == "77")).one().text
        assert text.endswith("/media/gone.jpg")


def test_channel_is_off_without_a_token(tmp_path: Any) -> None:
    services = make_services(make_settings(tmp_path, channels=("channels.viber",)))
    try:
        app = create_app(services.settings, services=services)
        assert "viber" not in services.senders
        body = json.dumps(fixture_body("message_text")).encode()
        response = app.test_client().post("/channels/viber/webhook", data=body)
        assert response.status_code == 404
    finally:
        services.db.dispose()



def test_set_webhook_command_registers_our_url_with_viber(app: Any, double: Any) -> None:
    result = app.test_cli_runner().invoke(args=["viber", "set-webhook"])
    assert result.exit_code == 0, result.output
    call = double.sent[-1]
    assert call.path == "/pa/set_webhook" and call.token == AUTH_TOKEN
    assert call.body["url"] == f"{app.extensions['helpdesk'].settings.public_url}/channels/viber/webhook"
    assert "conversation_started" in call.body["event_types"]
    double.answers.append({"status": 2, "status_message": "invalidAuthToken"})
    result = app.test_cli_runner().invoke(args=["viber", "set-webhook"])
    assert result.exit_code != 0 and "invalid auth token" in result.output
