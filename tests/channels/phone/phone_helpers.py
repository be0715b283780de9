"""Helpers and fixtures for the phone channel tests: an app wired to a local Twilio REST double,
a fixed clock, and a Twilio stand-in (channels.phone.simulator) posting signed webhooks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from phone_twilio_double import TwilioDouble
from sqlalchemy import func, select

from channels.dispatcher import OutboxDispatcher
from channels.phone.channel import EXTENSION_KEY, PhoneChannel
from channels.phone.signature import sign
from channels.phone.simulator import Simulator
from helpdesk import create_app
from helpdesk.auth.accounts import hash_password
from helpdesk.migrate import upgrade
from helpdesk.models import Agent, Message, Ticket
from helpdesk.services import FixedClock
from helpdesk.settings import Settings

PUBLIC_URL = "https://podrska.example.rs"
TWILIO_NUMBER = "+381113300900"
AGENT_PHONE = "+381113300901"
CALLER = "+381641234567"
FIXTURES = Path(__file__).resolve().parents[3] / "channels" / "phone" / "fixtures"
# Tuesday 10 November 2026, 10:00 in Belgrade (09:00 UTC): within mon-fri 08:00-16:00.
OPEN_HOURS = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
# Saturday 14 November 2026, 11:00 in Belgrade.
CLOSED = datetime(2026, 11, 14, 10, 0, tzinfo=UTC)


def fixture_params(name: str) -> dict[str, str]:
    return dict(parse_qsl((FIXTURES / name).read_text().strip(), keep_blank_values=True))


@pytest.fixture
def double():
    d = TwilioDouble(account_sid="AC" + "3f" * 16, auth_token="8c" * 16).start()
    yield d
    d.stop()


def make_phone_app(tmp_path: Path, double: TwilioDouble | None, **env: str):
    values = {
        "HELPDESK_DATA_DIR": str(tmp_path / "data"),
        "HELPDESK_SECRET_KEY": "test-secret",
        "HELPDESK_TESTING": "1",
        "HELPDESK_CHANNELS": "channels.phone",
        "HELPDESK_TRIAGE": "local",
        "HELPDESK_PUBLIC_URL": PUBLIC_URL,
        "HELPDESK_AGENT_PHONE": AGENT_PHONE,
        "HELPDESK_TWILIO_FROM_NUMBER": TWILIO_NUMBER,
    }
    if double is not None:
        values.update(
            HELPDESK_TWILIO_ACCOUNT_SID=double.account_sid,
            HELPDESK_TWILIO_AUTH_TOKEN=double.auth_token,
            HELPDESK_TWILIO_API_BASE=double.url,
        )
    values.update(env)
    app = create_app(Settings.from_env(values))
    svc = app.extensions["helpdesk"]
    upgrade(svc.db)
    svc.clock = FixedClock(OPEN_HOURS)
    phone: PhoneChannel = app.extensions[EXTENSION_KEY]
    phone.worker.budget_seconds = 60  # tests wait for the stored result: no timing in asserts
    return app


@pytest.fixture
def phone_db_url(tmp_path) -> str:
    """SQLite by default; a test module overrides this with `store_url` to run on PostgreSQL too."""
    return f"sqlite:///{tmp_path / 'helpdesk.db'}"


@pytest.fixture
def phone_app(tmp_path, double, phone_db_url):
    app = make_phone_app(tmp_path, double, HELPDESK_DATABASE_URL=phone_db_url)
    yield app
    app.extensions[EXTENSION_KEY].worker.stop()
    app.extensions["helpdesk"].db.dispose()


@pytest.fixture
def svc(phone_app):
    return phone_app.extensions["helpdesk"]


@pytest.fixture
def phone(phone_app) -> PhoneChannel:
    return phone_app.extensions[EXTENSION_KEY]


def signed_poster(app, token: str | None = None):
    """post(url, params) as Twilio would: signed over the public URL, sent to the app's path."""
    client = app.test_client()
    phone: PhoneChannel = app.extensions[EXTENSION_KEY]

    def post(url: str, params: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = sign(token or phone.webhook_token, url, params)
        response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        return response.status_code, response.get_data(as_text=True)

    return post


@pytest.fixture
def twilio(phone_app, phone, double) -> Simulator:
    recordings = f"https://api.twilio.com/2010-04-01/Accounts/{double.account_sid}/Recordings/"
    return Simulator(
        signed_poster(phone_app),
        phone.urls("/voice"),
        phone.urls("/sms"),
        TWILIO_NUMBER,
        recordings_base=recordings,
    )


@pytest.fixture
def dispatch(svc):
    def run() -> int:
        return OutboxDispatcher(svc).run_once()

    return run


def counts(svc) -> tuple[int, int]:
    with svc.db.session() as s:
        return s.scalar(select(func.count(Ticket.id))), s.scalar(select(func.count(Message.id)))


def make_agent(svc, email: str = "ana@helpdesk.localhost", role: str = "agent") -> int:
    with svc.db.transaction() as s:
        agent = Agent(email=email, name="Ana Agent", role=role, password_hash=hash_password("pw-12345678"))
        s.add(agent)
        s.flush()
        return agent.id


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, svc, email: str = "ana@helpdesk.localhost") -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": email, "password": "pw-12345678", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    client.get("/console/phone/outbox?lang=en")  # the tests read English texts; the default is Serbian
