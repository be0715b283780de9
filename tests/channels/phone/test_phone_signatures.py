"""Every Twilio webhook needs a valid X-Twilio-Signature: otherwise 403 and nothing is stored."""

from __future__ import annotations

import pytest
from phone_helpers import PUBLIC_URL, counts, fixture_params

from channels.phone.signature import sign

ENDPOINTS = [
    ("/channels/twilio/voice", "voice_incoming.form"),
    ("/channels/twilio/voice/voicemail?lang=en", "voice_record_action.form"),
    ("/channels/twilio/voice/transcription?lang=en", "voice_transcription.form"),
    ("/channels/twilio/voice/call-recording?lang=sr", "voice_dial_recording.form"),
    ("/channels/twilio/sms", "sms_incoming.form"),
    ("/channels/twilio/sms/status?m=1", "sms_status_delivered.form"),
]


@pytest.mark.parametrize(("path", "fixture"), ENDPOINTS)
def test_missing_or_wrong_signature_is_refused_and_nothing_stored(
    phone_app, svc, phone, double, path, fixture
):
    client = phone_app.test_client()
    params = fixture_params(fixture)
    url = PUBLIC_URL + path
    wrong = [
        {},  # no signature at all
        {"X-Twilio-Signature": sign("not-the-auth-token", url, params)},
        {"X-Twilio-Signature": sign(phone.webhook_token, url + "&x=1", params)},  # other URL
        {"X-Twilio-Signature": sign(phone.webhook_token, url, {**params, "From": "+38160999"})},
    ]
    for headers in wrong:
        response = client.post(path, data=params, headers=headers)
        assert response.status_code == 403
        assert b"X-Twilio-Signature" in response.data
    phone.worker.drain()
    assert counts(svc) == (0, 0)
    assert double.requests == []  # no recording fetched, no SMS sent


def test_valid_signature_over_the_public_url_is_accepted_behind_a_proxy(phone_app, svc, phone):
    # The app sees http://10.0.0.7:8000/...; Twilio signed https://podrska.example.rs/...
    client = phone_app.test_client()
    params = fixture_params("sms_incoming.form")
    url = PUBLIC_URL + "/channels/twilio/sms"
    response = client.post(
        "/channels/twilio/sms",
        base_url="http://10.0.0.7:8000",
        data=params,
        headers={"X-Twilio-Signature": sign(phone.webhook_token, url, params)},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert counts(svc) == (1, 1)


def test_sha256_signature_settings_header_is_honoured(phone_app, phone):
    from twilio.request_validator import RequestValidator

    params = fixture_params("voice_incoming.form")
    url = PUBLIC_URL + "/channels/twilio/voice"
    signature = RequestValidator(phone.webhook_token).compute_signature(url, params, "HMAC_SHA256")
    response = phone_app.test_client().post(
        "/channels/twilio/voice",
        data=params,
        headers={
            "X-Twilio-Signature": signature,
            "X-Twilio-Webhooks-Signature-Settings": "key=whsk_1,algorithm=HMAC_SHA256",
        },
    )
    assert response.status_code == 200 and b"<Gather" in response.data


def test_signed_but_malformed_request_gets_400_not_500(phone_app, phone):
    params = {"CallSid": "not-a-sid", "From": "+381641234567"}
    url = PUBLIC_URL + "/channels/twilio/voice"
    response = phone_app.test_client().post(
        "/channels/twilio/voice",
        data=params,
        headers={"X-Twilio-Signature": sign(phone.webhook_token, url, params)},
    )
    assert response.status_code == 400
    assert b"CallSid" in response.data
