"""The public front door at / and the header every citizen page shares."""

from __future__ import annotations

from typing import Any

from helpdesk import create_app
from helpdesk.cli.core import check
from tests.citizen.conftest import OFFICE_EMAIL, OFFICE_PHONE, citizen_services
from tests.conftest import login

LANGUAGES = [
    ("sr-Latn", "Ponedeljak–petak: 08:00–16:00", ("Kako možemo da pomognemo?", "Prijava za zaposlene")),
    ("sr-Cyrl", "Понедељак–петак: 08:00–16:00", ("Како можемо да помогнемо?", "Пријава за запослене")),
    ("en", "Monday–Friday: 08:00–16:00", ("How can we help?", "Staff login")),
]


def test_front_door_offers_every_way_in_the_readers_language(citizen_app: Any) -> None:
    client = citizen_app.test_client()
    for lang, hours, words in LANGUAGES:
        response = client.get(f"/?lang={lang}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'<html lang="{lang}">' in html
        assert 'role="search"' in html and 'action="/help/"' in html and f'value="{lang}"' in html
        assert f'href="/chat?lang={lang}"' in html and f'href="/contact?lang={lang}"' in html
        assert OFFICE_PHONE in html and f'href="tel:{OFFICE_PHONE.replace(" ", "")}"' in html
        assert f'href="mailto:{OFFICE_EMAIL}"' in html
        assert hours in html
        assert f'href="/login?lang={lang}"' in html
        for word in words:
            assert word in html


def test_signed_in_agent_goes_on_to_the_console(citizen_app: Any) -> None:
    client = citizen_app.test_client()
    login(client, citizen_app.extensions["helpdesk"])
    assert client.get("/").headers["Location"].rstrip("/").endswith("/console")


def test_citizen_pages_lead_home_and_switch_language_keeping_the_query(citizen_app: Any) -> None:
    client = citizen_app.test_client()
    for path in ("/help/?q=paso%C5%A1", "/chat", "/contact", "/survey/not-a-token"):
        sep = "&" if "?" in path else "?"
        html = client.get(f"{path}{sep}lang=sr-Cyrl").get_data(as_text=True)
        assert 'class="brand" href="/?lang=sr-Cyrl"' in html, path
        assert 'href="/contact?lang=sr-Cyrl"' in html, path  # the citizen's menu keeps the language
        if "q=" in path:
            assert 'href="/help/?q=paso%C5%A1&amp;lang=en"' in html


def test_check_lists_the_sender_of_each_inbound_channel(tmp_path: Any, citizen_app: Any) -> None:
    ok = citizen_app.test_cli_runner().invoke(check)
    assert "[ok] replies to web tickets: sent by WebSender" in ok.output, ok.output
    assert "[ok] replies to sms tickets: sent by SmsSender" in ok.output
    svc = citizen_services(tmp_path / "chat-only", channels=("channels.chat",))
    broken = create_app(svc.settings, services=svc).test_cli_runner().invoke(check)
    assert broken.exit_code == 1
    assert "[FAIL] replies to web tickets: NO SENDER" in broken.output, broken.output
    svc.db.dispose()
