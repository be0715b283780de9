"""The parts of the phone channel that need no app: numbers, TwiML, signatures, REST base URL."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from phone_twilio_double import FAKE_MP3, TwilioDouble
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from channels.phone import twiml
from channels.phone.media import fetch_recording
from channels.phone.numbers import can_receive_sms, to_e164
from channels.phone.optout import keyword
from channels.phone.signature import sign
from channels.phone.simulator import parse
from channels.phone.twilio_http import ApiBaseHttpClient, make_client, rebase
from helpdesk.settings import Settings

PUBLIC = "https://podrska.example.rs"
URLS = twiml.Urls(PUBLIC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("064 123 4567", "+381641234567"),
        ("+381 64 123 4567", "+381641234567"),
        ("00381641234567", "+381641234567"),
        ("011/330-0900", "+381113300900"),
        ("+14155550100", "+14155550100"),
        ("anonymous", None),
        ("client:agent", None),
        ("12", None),
        ("", None),
    ],
)
def test_caller_numbers_become_e164(raw, expected):
    assert to_e164(raw) == expected


def test_landlines_get_no_sms_mobiles_do():
    assert can_receive_sms("+381641234567")
    assert not can_receive_sms("+381113300900")


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("STOP", "stop"),
        (" stop. ", "stop"),
        ("Стоп", "stop"),
        ("odjava", "stop"),
        ("START", "start"),
        ("Старт", "start"),
        ("stop sending me the wrong form", None),
        ("Dobar dan", None),
    ],
)
def test_stop_and_start_keywords(body, word):
    assert keyword(body) == word


def test_greeting_is_bilingual_and_waits_for_one_key():
    root = ET.fromstring(twiml.greeting(URLS))
    gather = root.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert gather.get("action") == f"{PUBLIC}/channels/twilio/voice/language"
    languages = [say.get("language") for say in gather.iter("Say")]
    assert languages == ["sr-RS", "en-GB"]
    texts = " ".join(say.text or "" for say in gather.iter("Say"))
    assert "pritisnite 1" in texts and "press 2" in texts


def test_voicemail_records_with_transcription_callback():
    root = ET.fromstring(twiml.voicemail(URLS, "en"))
    record = root.find("Record")
    assert record is not None
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == f"{PUBLIC}/channels/twilio/voice/transcription?lang=en"
    assert record.get("action") == f"{PUBLIC}/channels/twilio/voice/voicemail?lang=en"
    assert int(record.get("maxLength")) >= 60


@pytest.mark.parametrize(
    ("target", "tag", "text"),
    [
        ("+381113300901", "Number", "+381113300901"),
        ("011 330 0901", "Number", "+381113300901"),
        ("client:desk", "Client", "desk"),
    ],
)
def test_agent_dial_rings_a_number_or_a_client_and_records(target, tag, text):
    root = ET.fromstring(twiml.connect_agent(URLS, "sr", target, "+381113300900"))
    dial = root.find("Dial")
    assert dial is not None
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("callerId") == "+381113300900"
    assert dial.find(tag).text == text


def test_simulator_parses_what_the_caller_waits_for():
    said, pending = parse(twiml.main_menu(URLS, "en"))
    assert pending.verb == "gather"
    assert pending.redirect == f"{PUBLIC}/channels/twilio/voice/menu?lang=en&attempt=2"
    assert any("press 3" in line for line in said)


def test_signature_matches_twilio_validator_and_breaks_on_any_change():
    url = f"{PUBLIC}/channels/twilio/voice/choice?lang=sr"
    params = {"CallSid": "CA" + "1" * 32, "Digits": "2"}
    signature = sign("secret-token", url, params)
    validator = RequestValidator("secret-token")
    assert validator.validate(url, params, signature)
    assert not validator.validate(url, {**params, "Digits": "3"}, signature)
    assert not validator.validate(url.replace("lang=sr", "lang=en"), params, signature)
    assert not RequestValidator("other-token").validate(url, params, signature)


def test_rebase_moves_only_twilio_urls():
    base = "http://127.0.0.1:8099/twilio"
    assert (
        rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", base)
        == "http://127.0.0.1:8099/twilio/2010-04-01/Accounts/AC1/Messages.json"
    )
    assert rebase("https://example.org/x", base) == "https://example.org/x"
    assert rebase("https://api.twilio.com/x", None) == "https://api.twilio.com/x"


@pytest.fixture
def double():
    d = TwilioDouble(account_sid="AC" + "a" * 32, auth_token="tok-" + "b" * 28).start()
    yield d
    d.stop()


def _settings(tmp_path, double, **more):
    return Settings(
        data_dir=tmp_path,
        secret_key="k",
        twilio_account_sid=double.account_sid,
        twilio_auth_token=double.auth_token,
        twilio_from_number="+381113300900",
        twilio_api_base=double.url,
        **more,
    )


def test_twilio_client_sends_to_the_api_base(tmp_path, double):
    client = make_client(_settings(tmp_path, double))
    message = client.messages.create(to="+381641234567", from_="+381113300900", body="Zdravo")
    assert message.sid.startswith("SM")
    assert double.messages() == [{"To": "+381641234567", "From": "+381113300900", "Body": "Zdravo"}]
    assert double.requests[0].authorized


def test_twilio_errors_come_back_as_rest_exceptions(tmp_path, double):
    import json

    from phone_twilio_double import FIXTURES

    double.fail_next.append((400, json.loads((FIXTURES / "rest_error_invalid_to.json").read_text())))
    client = make_client(_settings(tmp_path, double))
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="+38100", from_="+381113300900", body="x")
    assert err.value.code == 21211


def test_recording_is_fetched_as_mp3_through_the_api_base(tmp_path, double):
    settings = _settings(tmp_path, double)
    sid = "RE" + "c" * 32
    url = f"https://api.twilio.com/2010-04-01/Accounts/{double.account_sid}/Recordings/{sid}"
    attachment = fetch_recording(ApiBaseHttpClient(double.url), settings, url, sid)
    assert attachment is not None
    assert attachment.content_type == "audio/mpeg" and attachment.data == FAKE_MP3
    assert attachment.filename == f"{sid}.mp3"


def test_recording_urls_off_twilio_are_not_fetched(tmp_path, double):
    settings = _settings(tmp_path, double)
    assert fetch_recording(ApiBaseHttpClient(double.url), settings, "https://evil.example/x", "RE1") is None
    assert double.requests == []
