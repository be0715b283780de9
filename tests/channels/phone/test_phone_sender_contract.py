"""One contract for both SMS senders: Twilio's REST API (here its local double) and the local
outbox used without an account. Same envelope in, same kind of result or failure out."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from phone_helpers import CALLER, TWILIO_NUMBER, make_phone_app

from channels.phone.optout import set_opted_out
from helpdesk.outbound import Envelope, PermanentFailure


@pytest.fixture(params=["twilio", "local"])
def sender_app(request, tmp_path):
    double = request.getfixturevalue("double") if request.param == "twilio" else None
    app = make_phone_app(tmp_path, double)
    yield request.param, app, double
    app.extensions["phone_channel"].worker.stop()
    app.extensions["helpdesk"].db.dispose()


def envelope(to: str | None, text: str = "Vaš zahtev je rešen.", kind: str = "reply") -> Envelope:
    return Envelope(
        item_id=1,
        kind=kind,
        channel="sms",
        ticket_reference="HD-2026-000042",
        subject="",
        to_address=to,
        to_name=None,
        text=text,
        html=None,
        language="sr",
        script="latn",
        message_id=7,
    )


def sent_bodies(kind, app, double) -> list[tuple[str, str]]:
    if kind == "twilio":
        return [(m["To"], m["Body"]) for m in double.messages()]
    path = app.extensions["helpdesk"].settings.data_dir / "outbox" / "sms.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(r["to"], r["body"]) for r in map(json.loads, lines)]


def test_a_reply_is_sent_to_the_e164_number_with_the_reference(sender_app):
    kind, app, double = sender_app
    sender = app.extensions["helpdesk"].senders["sms"]
    result = sender.send(envelope("064 123 4567"))
    assert result.external_id and result.external_id.startswith("SM")
    assert sent_bodies(kind, app, double) == [(CALLER, "Vaš zahtev je rešen.\n[HD-2026-000042]")]
    if kind == "twilio":
        assert double.messages()[0]["From"] == TWILIO_NUMBER


@pytest.mark.parametrize(
    ("to", "text", "reason"),
    [(None, "x", "No phone number"), ("+381641234567", "   ", "Empty message")],
)
def test_unsendable_envelopes_fail_permanently(sender_app, to, text, reason):
    kind, app, double = sender_app
    with pytest.raises(PermanentFailure, match=reason):
        app.extensions["helpdesk"].senders["phone"].send(envelope(to, text))
    assert sent_bodies(kind, app, double) == []


def test_an_opted_out_number_gets_nothing(sender_app):
    kind, app, double = sender_app
    svc = app.extensions["helpdesk"]
    set_opted_out(svc, CALLER, True)
    with pytest.raises(PermanentFailure, match="opted out"):
        svc.senders["sms"].send(envelope(CALLER))
    assert sent_bodies(kind, app, double) == []


def test_acknowledgement_text_is_composed_in_the_citizens_script(sender_app):
    kind, app, double = sender_app
    svc = app.extensions["helpdesk"]
    ack = envelope(CALLER, "", kind="ack")
    svc.senders["sms"].send(replace(ack, script="cyrl"))
    [(_, body)] = sent_bodies(kind, app, double)
    assert body.startswith("Примили смо ваш захтев HD-2026-000042.")  # reference stays Latin
