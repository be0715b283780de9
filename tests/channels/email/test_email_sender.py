"""The outbound side alone: headers, the relay's answers, AUTH, the ack limiter, held images."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult

from channels.email.html import allow_remote_images, sanitize_html
from channels.email.sender import AckRateLimiter, EmailSender
from channels.email.server import _Controller
from channels.email.thread_hints import clean_subject, parse_our_id
from helpdesk.outbound import Envelope, PermanentFailure, TemporaryFailure
from helpdesk.settings import Settings
from tests.conftest import make_settings


def envelope(**changes: Any) -> Envelope:
    values: dict[str, Any] = {
        "item_id": 7,
        "kind": "reply",
        "channel": "email",
        "ticket_reference": "HD-2026-000042",
        "subject": "Re: RE: Lična karta [HD-2026-000042]",
        "to_address": "ana@example.rs",
        "to_name": "Ana Anić",
        "text": "Poštovana, termin je potvrđen.",
        "html": None,
        "language": "sr",
        "script": "latn",
        "thread_external_ids": ("first@example.rs",),
        "message_id": 99,
        "reply_token": "ab" * 12,
    }
    values.update(changes)
    return Envelope(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, support_address="podrska@helpdesk.localhost")


def test_reply_headers(settings: Settings) -> None:
    msg, message_id, envelope_from = EmailSender(settings).build(envelope())
    assert msg["Subject"] == "Re: Lična karta [HD-2026-000042]"  # no "Re: RE:" pile-up
    assert msg["In-Reply-To"] == "<first@example.rs>"
    assert f"<{message_id}>" == msg["Message-ID"]
    tag = parse_our_id(message_id)
    assert tag is not None and tag.token == "ab" * 12 and (tag.kind, tag.number) == ("m", 99)
    assert envelope_from == f"bounce+{'ab' * 12}.m99@helpdesk.localhost"
    assert msg["Auto-Submitted"] is None


def test_references_keep_the_root_and_the_newest(settings: Settings) -> None:
    ids = tuple(f"m{i}@example.rs" for i in range(30))
    msg, _, _ = EmailSender(settings).build(envelope(thread_external_ids=ids))
    refs = msg["References"].split()
    assert len(refs) == 20 and refs[0] == "<m0@example.rs>" and refs[-1] == "<m29@example.rs>"
    assert msg["In-Reply-To"] == "<m29@example.rs>"


def test_in_reply_to_points_at_the_citizen_not_at_our_own_mail(settings: Settings) -> None:
    ours = "hd." + "ab" * 12 + ".a3.0011aabb@helpdesk.localhost"
    msg, _, _ = EmailSender(settings).build(envelope(thread_external_ids=("c1@example.rs", ours)))
    assert msg["In-Reply-To"] == "<c1@example.rs>"
    assert msg["References"] == f"<c1@example.rs> <{ours}>"


def test_html_reply_is_multipart_alternative(settings: Settings) -> None:
    msg, _, _ = EmailSender(settings).build(envelope(html="<p>Termin je <b>potvrđen</b>.</p>"))
    assert msg.get_content_type() == "multipart/alternative"
    assert "potvrđen" in msg.get_body(("html",)).get_content()


def test_subject_cleanup() -> None:
    assert clean_subject("Odg: Fwd: RE: [HD-2026-000001] Porez") == "Porez"
    assert clean_subject("Re[2]: AW: Pitanje") == "Pitanje"


class _Relay:
    def __init__(self, rcpt_reply: str = "250 OK") -> None:
        self.rcpt_reply = rcpt_reply
        self.logins: list[bytes] = []
        self.delivered = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.delivered += 1
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.logins.append(data.login)
        return AuthResult(success=data.login == b"helpdesk" and data.password == b"s3cret")


def _serve(relay: _Relay, **kwargs: Any) -> Iterator[_Controller]:
    controller = _Controller(relay, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def relay_tls(tmp_path: Path) -> tuple[ssl.SSLContext, str]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    key, cert = tmp_path / "relay.key", tmp_path / "relay.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, str(cert)


def test_relay_starttls_and_auth(settings: Settings, relay_tls: tuple[ssl.SSLContext, str]) -> None:
    context, cafile = relay_tls
    relay = _Relay()
    for controller in _serve(
        relay,
        authenticator=relay.authenticate,
        auth_required=True,
        tls_context=context,
        require_starttls=True,
    ):
        relay_settings = replace(
            settings,
            smtp_relay=f"127.0.0.1:{controller.port}",
            smtp_relay_starttls=True,
            smtp_relay_cafile=cafile,
            smtp_relay_user="helpdesk",
            smtp_relay_password="s3cret",
        )
        result = EmailSender(relay_settings).send(envelope())
        assert result.external_id and relay.logins == [b"helpdesk"] and relay.delivered == 1
        with pytest.raises(TemporaryFailure):  # an unknown certificate is never trusted
            EmailSender(replace(relay_settings, smtp_relay_cafile=None)).send(envelope())
        assert relay.delivered == 1


def test_relay_refusing_the_recipient_is_permanent(settings: Settings) -> None:
    relay = _Relay("550 5.1.1 No such user")
    for controller in _serve(relay):
        sender = EmailSender(replace(settings, smtp_relay=f"127.0.0.1:{controller.port}"))
        with pytest.raises(PermanentFailure, match="550"):
            sender.send(envelope())


def test_relay_deferring_the_recipient_is_temporary(settings: Settings) -> None:
    relay = _Relay("450 4.2.1 Try later")
    for controller in _serve(relay):
        sender = EmailSender(replace(settings, smtp_relay=f"127.0.0.1:{controller.port}"))
        with pytest.raises(TemporaryFailure, match="450"):
            sender.send(envelope())


def test_no_address_is_a_permanent_failure(settings: Settings) -> None:
    with pytest.raises(PermanentFailure):
        EmailSender(settings).send(envelope(to_address=None))


def test_ack_limiter_slides() -> None:
    limiter = AckRateLimiter(limit=2, window=60)
    assert limiter.allow("a@x.rs", now=0) and limiter.allow("A@x.rs", now=1)
    assert not limiter.allow("a@x.rs", now=30)
    assert limiter.allow("b@x.rs", now=30)  # per address
    assert limiter.allow("a@x.rs", now=61)  # the first one left the window


def test_remote_images_are_held_until_an_agent_asks() -> None:
    held = sanitize_html('<p>x</p><img src="https://t.example/p.gif" alt="p"><img src="cid:a@b">')
    assert ' src="https://' not in held and 'src="cid:a@b"' in held
    shown = allow_remote_images(held)
    assert 'src="https://t.example/p.gif"' in shown and "data-remote-src" not in shown
