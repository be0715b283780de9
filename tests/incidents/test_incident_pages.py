"""The incident pages over HTTP: roles, CSRF, the form, the preview with its count, the bulk
answer (a second submit sends nothing again), the console's panel and the citizen banner in
all three languages on /, /help and /chat."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from helpdesk import create_app
from helpdesk.incidents.core import IncidentDraft, close_incident, open_incident
from helpdesk.models import AuditEvent, OutboxItem
from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound
from tests.conftest import csrf_token_from, login, make_services, make_settings

NOTICE = "Portal eUprava ne radi. Očekujemo da proradi do 13 časova."
NOTICE_EN = "The eUprava portal is down; we expect it back by 13:00."


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    services = make_services(make_settings(tmp_path, channels=("channels.chat",)))
    yield services
    services.db.dispose()


@pytest.fixture
def app(svc: Services) -> Any:
    return create_app(svc.settings, services=svc)


def _csrf(client: Any, path: str) -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def _inquiry(svc: Services, sender: str, text: str) -> str:
    return receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", sender),
            subject="Prijava",
            text=text,
            wants_acknowledgement=True,
        ),
    ).ticket_reference


def test_a_supervisor_opens_previews_and_answers_an_agent_may_not_open(svc: Services, app: Any) -> None:
    chief = app.test_client()
    login(chief, svc, "supervisor")
    token = _csrf(chief, "/supervisor/incidents/new?lang=en")
    refused = chief.post("/supervisor/incidents", data={"title": "x"})  # no CSRF token
    assert refused.status_code == 400
    bad = chief.post(
        "/supervisor/incidents", data={"csrf_token": token, "title": "eUprava", "notice_sr_latn": NOTICE}
    )
    assert bad.status_code == 400 and "category or at least one keyword" in bad.get_data(as_text=True)
    made = chief.post(
        "/supervisor/incidents",
        data={
            "csrf_token": token,
            "title": "eUprava ne radi",
            "keywords": "eUprava",
            "notice_sr_latn": NOTICE,
            "notice_en": NOTICE_EN,
            "ends": "2026-11-23T13:00",
        },
    )
    assert made.status_code == 302
    detail_url = made.headers["Location"]
    ref = _inquiry(svc, "ana@example.rs", "Ne radi mi eUprava, šta da radim?")
    other = _inquiry(svc, "pera@example.rs", "Promena adrese")
    page = chief.get(detail_url + "?lang=en").get_data(as_text=True)
    assert ref in page and "1 of 1 linked tickets" in page

    preview = chief.post(detail_url + "/answer", data={"csrf_token": token, "text": "Radi ponovo."})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "This answer will be written on 1 ticket." in html
    nonce = re.search(r'name="nonce" value="([^"]+)"', html)
    assert nonce is not None
    form = {"csrf_token": token, "text": "Radi ponovo.", "nonce": nonce.group(1), "confirm": "1"}
    for _ in range(2):  # a double click
        assert chief.post(detail_url + "/answer", data=form).status_code == 302
    with svc.db.session() as s:
        replies = s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "reply"))
    assert replies == 1

    console = chief.get(f"/console/tickets/{ref}?lang=en").get_data(as_text=True)
    assert "Linked to the incident" in console and "eUprava ne radi" in console

    agent = app.test_client()
    login(agent, svc, "agent")
    assert agent.get("/supervisor/incidents?lang=en").status_code == 200
    assert agent.get("/supervisor/incidents/new").status_code == 403
    agent_token = _csrf(agent, "/supervisor/incidents")
    assert agent.post(detail_url + "/close", data={"csrf_token": agent_token}).status_code == 403
    linking = {"csrf_token": agent_token, "reference": other}
    assert agent.post(detail_url + "/link", data=linking).status_code == 403  # not its ticket
    linking["csrf_token"] = token
    assert chief.post(detail_url + "/link", data=linking).status_code == 302
    assert f'name="reference" value="{other}"' in chief.get(detail_url).get_data(as_text=True)
    assert chief.post(detail_url + "/unlink", data=linking).status_code == 302
    assert f'name="reference" value="{other}"' not in chief.get(detail_url).get_data(as_text=True)
    assert "1 of 1" not in agent.get(detail_url + "?lang=en").get_data(as_text=True)  # not its queue

    closed = chief.post(
        detail_url + "/close",
        data={"csrf_token": token, "notify": "1", "message": "Sve radi.", "nonce": "c-1"},
    )
    assert closed.status_code == 302
    with svc.db.session() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("incident.%")).order_by(AuditEvent.id)
        ).all()
    assert list(actions) == [
        "incident.opened",
        "incident.linked",
        "incident.answer",
        "incident.linked",
        "incident.unlinked",
        "incident.closed",
        "incident.closing",
    ]


BANNERS = {  # language -> (the notice, the banner's heading)
    "sr-Latn": (NOTICE, "Poznat problem"),
    "sr-Cyrl": ("Портал еУправа не ради. Очекујемо да проради до 13 часова.", "Познат проблем"),
    "en": (NOTICE_EN, "Known problem"),
}


def test_the_banner_on_every_citizen_page_in_the_pages_language(svc: Services, app: Any) -> None:
    citizen = app.test_client()
    assert "incident-banner" not in citizen.get("/?lang=en").get_data(as_text=True)
    incident = open_incident(
        svc,
        Actor.system("test"),
        IncidentDraft(title="eUprava", notice_sr_latn=NOTICE, notice_en=NOTICE_EN, keywords="eUprava"),
    )
    for lang, (expected, heading) in BANNERS.items():
        for path in ("/", "/help", "/chat"):
            html = citizen.get(f"{path}?lang={lang}").get_data(as_text=True)
            assert expected in html and heading in html, (path, lang)
            assert 'role="region" aria-labelledby="incident-banner-' in html
    close_incident(svc, incident, Actor.system("test"))
    assert "incident-banner" not in citizen.get("/help?lang=en").get_data(as_text=True)
