"""SMS both ways: inbound opens or continues a ticket, agents' replies reach the Twilio REST
double with the right To/From/Body, delivery callbacks update the message, STOP stops SMS."""

from __future__ import annotations

import json

import pytest
from phone_helpers import CALLER, TWILIO_NUMBER, counts, fixture_params, make_agent, make_phone_app
from sqlalchemy import select

from helpdesk.models import Contact, Message, OutboxItem, Ticket
from helpdesk.tickets import Actor, reply_to_ticket


@pytest.fixture
def phone_db_url(store_url):
    """These tests run on SQLite and on PostgreSQL (skipped without HELPDESK_TEST_DATABASE_URL)."""
    return store_url


def sms_ticket(svc):
    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.channel == "sms")).one()
        return ticket.reference, [(m.direction, m.text, m.external_id) for m in ticket.messages]


def message(svc, message_id):
    with svc.db.session() as s:
        m = s.get(Message, message_id)
        return m.delivery_state, m.delivery_error, m.external_id


def test_inbound_sms_opens_a_ticket_and_the_agent_reply_goes_out_through_twilio(
    twilio, svc, phone, double, dispatch
):
    status, body, sid = twilio.sms(CALLER, "Ne mogu da se prijavim na eUpravu sa eID.")
    assert status == 200 and body.endswith("<Response />")
    reference, messages = sms_ticket(svc)
    assert messages == [("inbound", "Ne mogu da se prijavim na eUpravu sa eID.", sid)]
    dispatch()
    [ack] = double.messages()
    assert ack["To"] == CALLER and ack["From"] == TWILIO_NUMBER and reference in ack["Body"]
    assert ack["StatusCallback"].startswith("https://podrska.example.rs/channels/twilio/sms/status")

    agent_id = make_agent(svc)
    ref = reply_to_ticket(svc, reference, Actor.agent(agent_id), "Pokušajte ponovo sa novim PIN-om.")
    dispatch()
    reply = double.messages()[-1]
    assert reply["To"] == CALLER and reply["From"] == TWILIO_NUMBER
    assert reply["Body"] == f"Pokušajte ponovo sa novim PIN-om.\n[{reference}]"
    state, _, twilio_sid = message(svc, ref.message_id)
    assert state == "sent" and twilio_sid.startswith("SM")

    # Twilio reports delivery on the StatusCallback; the message shows it.
    callback = reply["StatusCallback"]
    params = {**fixture_params("sms_status_delivered.form"), "MessageSid": twilio_sid}
    assert twilio.post(callback, params)[0] == 204
    phone.worker.drain()
    assert message(svc, ref.message_id)[0] == "delivered"
    # A late "sent" does not undo "delivered".
    assert twilio.post(callback, {**params, "MessageStatus": "sent", "SmsStatus": "sent"})[0] == 204
    phone.worker.drain()
    assert message(svc, ref.message_id)[0] == "delivered"


def test_undelivered_sms_shows_the_reason(twilio, svc, phone, double, dispatch):
    _, _, _ = twilio.sms(CALLER, "Pomoć")
    reference, _ = sms_ticket(svc)
    ref = reply_to_ticket(svc, reference, Actor.agent(make_agent(svc)), "Odgovor")
    dispatch()
    reply = double.messages()[-1]
    twilio_sid = message(svc, ref.message_id)[2]
    params = {**fixture_params("sms_status_undelivered.form"), "MessageSid": twilio_sid}
    assert twilio.post(reply["StatusCallback"], params)[0] == 204
    phone.worker.drain()
    state, error, _ = message(svc, ref.message_id)
    assert state == "failed" and "30003" in error and "unreachable" in error


def test_same_message_sid_delivered_twice_is_stored_once(twilio, svc, phone):
    params = fixture_params("sms_incoming.form")
    for _ in range(3):
        status, _ = twilio.post(twilio.sms_url, params)
        assert status == 200
    assert counts(svc) == (1, 1)


def test_next_sms_threads_onto_the_open_ticket(twilio, svc):
    twilio.sms(CALLER, "Prva poruka")
    twilio.sms("0641234567", "Druga poruka")  # the same phone, written nationally
    _, messages = sms_ticket(svc)
    assert [m[1] for m in messages] == ["Prva poruka", "Druga poruka"]


def test_stop_stops_outbound_sms_with_a_visible_reason_and_start_resumes(
    twilio, svc, phone, double, dispatch
):
    twilio.sms(CALLER, "Treba mi pomoć oko poreza.")
    reference, _ = sms_ticket(svc)
    dispatch()
    sent_before = len(double.messages())

    status, body, _ = twilio.sms(CALLER, "STOP")
    assert status == 200 and "Odjavljeni ste" in body
    with svc.db.session() as s:
        assert s.scalars(select(Contact)).one().sms_opt_out
    assert counts(svc)[1] == 1  # the keyword is not a message on the ticket

    agent = make_agent(svc)
    ref = reply_to_ticket(svc, reference, Actor.agent(agent), "Evo odgovora.")
    dispatch()
    assert len(double.messages()) == sent_before  # nothing reached Twilio
    state, error, _ = message(svc, ref.message_id)
    assert state == "failed" and "opted out" in error
    with svc.db.session() as s:
        item = s.scalars(select(OutboxItem).where(OutboxItem.message_id == ref.message_id)).one()
        assert item.status == "failed"

    status, body, _ = twilio.sms(CALLER, "Start")
    assert "Ponovo ste prijavljeni" in body
    reply_to_ticket(svc, reference, Actor.agent(agent), "Sada stiže.")
    dispatch()
    assert double.messages()[-1]["Body"].startswith("Sada stiže.")


def test_twilio_refusal_is_permanent_and_visible(twilio, svc, double, dispatch):
    from phone_helpers import FIXTURES

    twilio.sms(CALLER, "Pitanje")
    reference, _ = sms_ticket(svc)
    dispatch()
    error = json.loads((FIXTURES / "rest_error_invalid_to.json").read_text())
    double.fail_next.append((400, error))
    ref = reply_to_ticket(svc, reference, Actor.agent(make_agent(svc)), "Odgovor")
    dispatch()
    state, reason, _ = message(svc, ref.message_id)
    assert state == "failed" and "21211" in reason


def test_without_credentials_sms_go_to_the_local_outbox_shown_in_the_console(tmp_path):
    from phone_helpers import login, signed_poster

    from channels.phone.simulator import Simulator

    app = make_phone_app(tmp_path, None)
    svc = app.extensions["helpdesk"]
    phone = app.extensions["phone_channel"]
    try:
        sim = Simulator(signed_poster(app), phone.urls("/voice"), phone.urls("/sms"), TWILIO_NUMBER)
        status, _, _ = sim.sms(CALLER, "Gde je moj zahtev? Hvala, Đorđe")
        assert status == 200
        from channels.dispatcher import OutboxDispatcher

        OutboxDispatcher(svc).run_once()
        lines = (svc.settings.data_dir / "outbox" / "sms.jsonl").read_text().splitlines()
        [record] = [json.loads(line) for line in lines]
        assert record["to"] == CALLER and "Primili smo vaš zahtev" in record["body"]
        client = app.test_client()
        make_agent(svc, role="supervisor")  # an agent sees only its own tickets' SMS (access matrix)
        login(client, svc)
        page = client.get("/console/phone/outbox").get_data(as_text=True)
        assert CALLER in page and "Primili smo vaš zahtev" in page
    finally:
        phone.worker.stop()
        svc.db.dispose()


def test_voice_webhooks_delivered_twice_are_stored_once_on_both_stores(twilio, svc, phone):
    base = "https://podrska.example.rs/channels/twilio/voice"
    record = fixture_params("voice_record_action.form")
    transcription = fixture_params("voice_transcription.form")
    for _ in range(2):
        assert twilio.post(base + "/voicemail?lang=en", record)[0] == 200
        assert twilio.post(base + "/transcription?lang=en", transcription)[0] == 204
    phone.worker.drain()
    assert counts(svc) == (1, 2)
