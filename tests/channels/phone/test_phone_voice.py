"""Walk the voice menu as Twilio would: follow each returned TwiML document, send the next
signed request, and check what the caller hears and what lands in the ticket store."""

from __future__ import annotations

from phone_helpers import AGENT_PHONE, CALLER, CLOSED, counts
from sqlalchemy import select

from helpdesk.models import Attachment, Message, Ticket
from helpdesk.tickets import Identity, InboundMessage, receive_inbound


def heard(call) -> str:
    return " | ".join(call.heard)


def phone_tickets(svc):
    with svc.db.session() as s:
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        return [
            (
                t.reference,
                t.channel,
                t.contact.identity("phone"),
                [(m.text, m.external_id, [a.content_type for a in m.attachments]) for m in t.messages],
            )
            for t in tickets
        ]


def test_greeting_then_language_choice(twilio):
    call = twilio.call(CALLER)
    assert "Za srpski, pritisnite 1" in heard(call) and "For English, press 2" in heard(call)
    twilio.press(call, "2")
    assert "To speak to an agent, press 3" in call.heard[-1]
    call.heard.clear()
    twilio.press(call, "9")
    assert "not a valid choice" in heard(call)


def test_silence_repeats_the_greeting_then_falls_back_to_serbian(twilio):
    call = twilio.call(CALLER)
    twilio.silence(call)
    twilio.silence(call)
    twilio.silence(call)
    assert call.heard[-1].startswith("Za status postojećeg zahteva")


def test_ticket_status_by_number(twilio, svc):
    result = receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "milan@example.rs"),
            subject="eID",
            text="Ne radi prijava.",
        ),
    )
    number = str(int(result.ticket_reference.rsplit("-", 1)[1]))
    call = twilio.call(CALLER)
    twilio.press(call, "2")
    twilio.press(call, "1")
    assert "type your request number" in call.heard[-1]
    twilio.press(call, number + "#")
    assert f"Request number {' '.join(number)} is received and waiting to be handled." in heard(call)
    # The full number with the year works too; an unknown number is said so, in Serbian as well.
    twilio.press(call, "1")
    twilio.press(call, result.ticket_reference.replace("HD-", "").replace("-", "") + "#")
    assert heard(call).count("is received and waiting to be handled") == 2
    call = twilio.call(CALLER)
    twilio.press(call, "1")
    twilio.press(call, "1")
    twilio.press(call, "987654#")
    assert "Zahtev sa tim brojem nije pronađen." in heard(call)
    assert counts(svc) == (1, 1)  # asking stores nothing


def test_voicemail_with_transcription_becomes_a_ticket_with_the_recording(
    twilio, svc, phone, double, dispatch
):
    call = twilio.call("064 123 4567".replace(" ", ""))  # a caller ID without country code
    twilio.press(call, "2")
    twilio.press(call, "2")
    assert "After the tone" in call.heard[-1]
    recording_sid, transcription_sid = twilio.record(
        call, "My tax card is wrong, please call me.", seconds=14
    )
    phone.worker.drain()
    [(reference, channel, number, messages)] = phone_tickets(svc)
    number_heard = " ".join(str(int(reference.rsplit("-", 1)[1])))
    assert f"received as request number {number_heard}" in heard(call)
    assert call.ended
    assert channel == "phone" and number == CALLER  # 064... found as +381...
    voicemail, transcript = messages
    assert voicemail[1] == recording_sid and voicemail[2] == ["audio/mpeg"]
    assert "Voicemail (0:14)" in voicemail[0]
    assert transcript[1] == transcription_sid
    assert transcript[0] == "Voicemail transcript: My tax card is wrong, please call me."
    # The recording was fetched from Twilio (the double), as MP3, with the account's credentials.
    [fetch] = [r for r in double.requests if r.method == "GET"]
    assert fetch.path.endswith(recording_sid + ".mp3") and fetch.authorized
    # A mobile caller gets the ticket number by SMS.
    dispatch()
    [sms] = double.messages()
    assert sms["To"] == CALLER and reference in sms["Body"]


def test_voicemail_and_transcription_delivered_twice_are_stored_once(twilio, svc, phone):
    from phone_helpers import fixture_params

    post = twilio.post
    base = "https://podrska.example.rs/channels/twilio/voice"
    for _ in range(2):
        assert post(base + "/voicemail?lang=en", fixture_params("voice_record_action.form"))[0] == 200
        assert post(base + "/transcription?lang=en", fixture_params("voice_transcription.form"))[0] == 204
    phone.worker.drain()
    assert counts(svc) == (1, 2)
    [(_, _, _, messages)] = phone_tickets(svc)
    assert "passport appointment" in messages[1][0]


def test_second_voicemail_joins_the_callers_open_ticket(twilio, svc, phone):
    for text in ("First message.", "Second message."):
        call = twilio.call(CALLER)
        twilio.press(call, "2")
        twilio.press(call, "2")
        twilio.record(call, text)
    phone.worker.drain()
    tickets = phone_tickets(svc)
    assert len(tickets) == 1
    assert [m[0].split(": ", 1)[-1] for m in tickets[0][3][1::2]] == [
        "First message.",
        "Second message.",
    ]


def test_speak_to_an_agent_in_business_hours_dials_and_records_the_call(twilio, svc, phone, double):
    call = twilio.call(CALLER)
    twilio.press(call, "1")
    twilio.press(call, "3")
    assert call.pending.verb == "dial" and call.pending.dial_target == AGENT_PHONE
    assert call.pending.attrs["record"] == "record-from-answer-dual"
    assert "Povezujemo vas sa operaterom" in call.heard[-1]
    assert "callerId" not in call.pending.attrs  # the agent's phone shows the citizen's number
    # While it rings, the ticket is there for the agent: who calls, on which ticket.
    [(reference, channel, number, messages)] = phone_tickets(svc)
    assert channel == "phone" and number == CALLER
    assert messages[0][1] == call.call_sid
    recording_sid = twilio.dial_outcome(call, answered=True, seconds=187)
    phone.worker.drain()
    assert call.ended
    [(same, _, _, messages)] = phone_tickets(svc)
    assert same == reference
    assert messages[1][1] == recording_sid and messages[1][2] == ["audio/mpeg"]
    assert "(3:07)" in messages[1][0]


def test_agent_not_answering_offers_voicemail(twilio, svc, phone):
    call = twilio.call(CALLER)
    twilio.press(call, "2")
    twilio.press(call, "3")
    twilio.dial_outcome(call, answered=False)
    assert "No agent is free right now" in heard(call)
    assert call.pending.verb == "record"
    twilio.record(call, "Please call me back about my pension.")
    phone.worker.drain()
    [(_, _, _, messages)] = phone_tickets(svc)
    assert len(messages) == 3  # call start, voicemail, transcript: one ticket


def test_outside_business_hours_says_so_and_offers_voicemail(twilio, svc, phone):
    svc.clock.at = CLOSED
    call = twilio.call(CALLER)
    twilio.press(call, "2")
    twilio.press(call, "3")
    assert "outside working hours, on working days from 08:00 to 16:00" in heard(call)
    assert call.pending.verb == "record"  # no <Dial>
    assert counts(svc) == (0, 0)
    twilio.record(call, "I need my birth certificate.")
    phone.worker.drain()
    assert counts(svc) == (1, 2)


def test_recording_plays_in_the_console(phone_app, twilio, svc, phone, double):
    from phone_helpers import login, make_agent

    call = twilio.call(CALLER)
    twilio.press(call, "2")
    twilio.press(call, "2")
    twilio.record(call, "Hello")
    phone.worker.drain()
    [(reference, _, _, _)] = phone_tickets(svc)
    with svc.db.session() as s:
        attachment_id = s.scalar(select(Attachment.public_id).join(Message))
    client = phone_app.test_client()
    assert client.get(f"/console/phone/recordings/{attachment_id}").status_code == 302  # login
    make_agent(svc, "other@helpdesk.localhost")  # an agent of another queue may not listen
    login(client, svc, "other@helpdesk.localhost")
    assert client.get(f"/console/phone/recordings/{attachment_id}").status_code == 403
    client = phone_app.test_client()
    make_agent(svc, role="supervisor")
    login(client, svc)
    # The ticket view shows the phone panel (rendered by the console's own panel hook).
    from helpdesk.console.views import render_panels

    with phone_app.test_request_context(f"/console/tickets/{reference}?lang=en"):
        with svc.db.session() as s:
            ticket = s.scalars(select(Ticket)).one()
            panel = "".join(render_panels(ticket))
    assert f'src="/console/phone/recordings/{attachment_id}"' in panel and "<audio" in panel
    assert CALLER in panel and "Call back" in panel
    audio = client.get(f"/console/phone/recordings/{attachment_id}")
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg"
    assert audio.data.startswith(b"ID3")


def test_slow_work_does_not_hold_up_the_answer_and_is_finished_afterwards(twilio, svc, phone, double):
    import threading

    phone.worker.budget_seconds = 0.05  # the recording download below outlasts it for sure
    double.hold_downloads = threading.Event()
    call = twilio.call(CALLER)
    twilio.press(call, "2")
    twilio.press(call, "2")
    twilio.record(call, "Slow network today.")
    assert "has been received and we will get back to you" in heard(call)
    assert call.statuses[-2:] == [200, 204]  # voicemail answered, transcription accepted
    assert counts(svc) == (0, 0)  # still downloading
    double.hold_downloads.set()
    phone.worker.drain()
    assert counts(svc) == (1, 2)  # recording and transcript, in order, on one ticket
    [(_, _, _, messages)] = phone_tickets(svc)
    assert messages[0][2] == ["audio/mpeg"] and "Slow network today." in messages[1][0]


def test_caller_with_a_hidden_number_is_told_why_nothing_is_filed(twilio, svc):
    call = twilio.call("anonymous")
    twilio.press(call, "2")
    twilio.press(call, "2")
    assert "Your number is hidden" in heard(call)
    assert call.pending.verb == "gather"  # back in the menu, status by number still works
    assert counts(svc) == (0, 0)


def test_empty_recording_goes_back_to_the_menu_and_stores_nothing(twilio, svc, phone):
    from phone_helpers import fixture_params

    params = {**fixture_params("voice_record_action.form"), "RecordingDuration": "0"}
    status, body = twilio.post("https://podrska.example.rs/channels/twilio/voice/voicemail?lang=en", params)
    assert status == 200 and "We did not record a message." in body and "<Gather" in body
    phone.worker.drain()
    assert counts(svc) == (0, 0)


def test_no_phone_number_or_message_text_reaches_the_logs(twilio, svc, phone, double, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    double.fail_next.append((500, {"code": 20500, "message": "Internal error", "status": 500}))
    twilio.sms(CALLER, "Moj JMBG je 0101990710123, pomozite.")
    twilio.sms(CALLER, "STOP")
    call = twilio.call(CALLER)
    twilio.press(call, "2")
    twilio.press(call, "2")
    twilio.record(call, "Secret words.")
    phone.worker.drain()
    # A job that fails inside the database logs where, not what (SQL errors carry parameters).
    from sqlalchemy import text

    def broken_job():
        with svc.db.session() as s:
            s.execute(text("SELECT * FROM no_such_table WHERE x = :n"), {"n": CALLER})

    phone.worker.submit(broken_job)
    phone.worker.drain()
    assert "phone job failed" in caplog.text and "OperationalError at" in caplog.text
    for secret in ("641234567", "0101990710123", "Secret words"):
        assert secret not in caplog.text


def test_serbian_voicemail_is_recorded_without_an_english_transcription(twilio, svc, phone):
    read = []  # what triage was given to route on
    local = svc.triage

    class Spy:
        def triage(self, subject, text):
            read.append((subject, text))
            return local.triage(subject, text)

    svc.triage = Spy()
    call = twilio.call(CALLER)
    twilio.press(call, "1")
    twilio.press(call, "2")
    assert "transcribe" not in call.pending.attrs  # Twilio transcribes English only
    assert int(call.pending.attrs["maxLength"]) <= 120
    twilio.record(call, None)
    phone.worker.drain()
    [(reference, _, _, [(text, _, audio)])] = phone_tickets(svc)
    assert text.startswith("Govorna poruka (0:12)") and audio == ["audio/mpeg"]
    # The placeholder text is not the citizen's words: triage routes on nothing, not on it.
    assert read == [("", "")]
    # The agent sees the recording and that someone must listen to it.
    from channels.phone.console import panel_context

    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        s.expunge(ticket)
    with phone.app.test_request_context():
        context = panel_context(ticket)
    assert context["needs_listening"] is True and context["recordings"][0]["kind"] == "voicemail"
