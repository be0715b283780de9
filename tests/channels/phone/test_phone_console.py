"""Console: click-to-call through Twilio REST, and the demo-only phone simulator page."""

from __future__ import annotations

from phone_helpers import (
    AGENT_PHONE,
    CALLER,
    TWILIO_NUMBER,
    csrf_token,
    login,
    make_agent,
    make_phone_app,
)
from sqlalchemy import select

from helpdesk.models import Message, Ticket


def notes(svc, reference):
    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        return [m.text for m in ticket.messages if m.direction == "note"]


def test_call_back_rings_the_agent_then_bridges_to_the_citizen(phone_app, svc, phone, twilio, double):
    twilio.sms(CALLER, "Molim vas da me pozovete, Đorđe.")
    with svc.db.session() as s:
        reference = s.scalars(select(Ticket.reference)).one()
    client = phone_app.test_client()
    make_agent(svc, role="supervisor")
    login(client, svc)
    page = f"/console/tickets/{reference}"
    token = csrf_token(client, "/console/phone/outbox")
    # Without the CSRF token the console refuses: this form is not a webhook.
    assert client.post(f"/console/phone/call/{reference}").status_code == 400
    response = client.post(f"/console/phone/call/{reference}", data={"csrf_token": token, "next": page})
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    [call] = double.calls()
    assert call["To"] == AGENT_PHONE and call["From"] == TWILIO_NUMBER
    assert call["Url"].startswith("https://podrska.example.rs/channels/twilio/voice/callback-connect")
    assert any("Call back started" in n for n in notes(svc, reference))

    # The agent answers: Twilio fetches the call's Url, the app dials the citizen.
    status, body = twilio.post(
        call["Url"],
        {
            "CallSid": "CA" + "4d" * 16,
            "From": TWILIO_NUMBER,
            "To": AGENT_PHONE,
            "CallStatus": "in-progress",
        },
    )
    assert status == 200
    assert f"<Number>{CALLER}</Number>" in body and 'record="record-from-answer-dual"' in body

    # The citizen does not pick up: a note says so, once, however often Twilio retries.
    from channels.phone.simulator import parse

    pending = parse(body)[1]
    for _ in range(2):
        status, said = twilio.post(
            pending.attrs["action"],
            {
                "CallSid": "CA" + "4d" * 16,
                "DialCallStatus": "no-answer",
                "DialCallDuration": "0",
            },
        )
        assert status == 200 and "Građanin se nije javio" in said
    phone.worker.drain()
    assert sum("the citizen - no-answer" in n for n in notes(svc, reference)) == 1

    # A second try connects; the recorded conversation lands on the same (SMS) ticket.
    recording_sid = "RE" + "6b" * 16
    status, _ = twilio.post(
        pending.attrs["recordingStatusCallback"],
        {
            "AccountSid": double.account_sid,
            "CallSid": "CA" + "4e" * 16,
            "RecordingSid": recording_sid,
            "RecordingStatus": "completed",
            "RecordingDuration": "65",
            "RecordingChannels": "2",
            "RecordingSource": "DialVerb",
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{double.account_sid}"
            f"/Recordings/{recording_sid}",
        },
    )
    assert status == 204
    phone.worker.drain()
    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        [recorded] = [m for m in ticket.messages if m.external_id == recording_sid]
        assert recorded.text.startswith("Povratni poziv (1:05)")
        assert [a.content_type for a in recorded.attachments] == ["audio/mpeg"]


def test_call_back_without_a_phone_number_is_refused_with_a_message(phone_app, svc, double):
    from helpdesk.tickets import Identity, InboundMessage, receive_inbound

    result = receive_inbound(
        svc,
        InboundMessage(channel="email", sender=Identity("email", "a@example.rs"), subject="x", text="y"),
    )
    client = phone_app.test_client()
    make_agent(svc, role="supervisor")
    login(client, svc)
    token = csrf_token(client, "/console/phone/outbox")
    response = client.post(
        f"/console/phone/call/{result.ticket_reference}",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 302
    assert double.calls() == []
    with client.session_transaction() as session:
        flashes = session.get("_flashes", [])
    assert any("no phone number" in text for _, text in flashes)


def test_simulator_page_walks_the_menu_with_signed_webhooks(tmp_path):
    app = make_phone_app(tmp_path, None, HELPDESK_DEMO="1")
    svc = app.extensions["helpdesk"]
    try:
        client = app.test_client()
        assert client.get("/console/phone/simulator").status_code == 302  # agents only
        make_agent(svc)
        login(client, svc)
        token = csrf_token(client, "/console/phone/simulator")
        page = client.post(
            "/console/phone/simulator",
            data={"csrf_token": token, "op": "call", "caller": "064 765 4321"},
        ).get_data(as_text=True)
        assert "For English, press 2" in page and 'name="digits"' in page

        import html
        import re

        def state(page):
            return {
                "call_sid": re.search(r'name="call_sid" value="([^"]+)"', page).group(1),
                "twiml": html.unescape(re.search(r'name="twiml" value="([^"]*)"', page).group(1)),
                "caller": "+381647654321",
                "csrf_token": token,
            }

        page = client.post(
            "/console/phone/simulator", data={**state(page), "op": "press", "digits": "2"}
        ).get_data(as_text=True)
        page = client.post(
            "/console/phone/simulator", data={**state(page), "op": "press", "digits": "2"}
        ).get_data(as_text=True)
        assert 'name="transcript"' in page
        page = client.post(
            "/console/phone/simulator",
            data={**state(page), "op": "record", "transcript": "Need help with my eID."},
        ).get_data(as_text=True)
        assert "received as request number 1" in page
        with svc.db.session() as s:
            [ticket] = s.scalars(select(Ticket)).all()
            texts = [m.text for m in ticket.messages]
            audio = [a.content_type for m in ticket.messages for a in m.attachments]
            number = ticket.contact.identity("phone")
        assert number == "+381647654321"
        assert texts[1] == "Voicemail transcript: Need help with my eID."
        assert audio == ["audio/wav"]  # the simulator's recording plays in the console too
    finally:
        app.extensions["phone_channel"].worker.stop()
        svc.db.dispose()


def test_simulator_is_absent_outside_demo_mode(phone_app, svc):
    client = phone_app.test_client()
    make_agent(svc)
    login(client, svc)
    assert client.get("/console/phone/simulator").status_code == 404
    with svc.db.session() as s:
        assert s.scalars(select(Message)).all() == []


def test_cli_prints_the_webhook_urls_and_the_local_outbox(tmp_path):
    app = make_phone_app(tmp_path, None)
    svc = app.extensions["helpdesk"]
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["phone", "urls"])
        assert result.exit_code == 0
        assert "Voice URL (HTTP POST):     https://podrska.example.rs/channels/twilio/voice" in (
            result.output
        )
        assert "local outbox" in result.output
        assert "The local SMS outbox is empty." in runner.invoke(args=["phone", "outbox"]).output
    finally:
        app.extensions["phone_channel"].worker.stop()
        svc.db.dispose()
