"""Callbacks end to end: the IVR's "press 4" (signed Twilio requests) and the web callback page
feed one callback queue, ordered by the requested time; outcomes reach the supervisor figures."""

from __future__ import annotations

import re

import pytest
from phone_helpers import (
    CALLER,
    EXTENSION_KEY,
    TWILIO_NUMBER,
    csrf_token,
    login,
    make_agent,
    make_phone_app,
    signed_poster,
)
from sqlalchemy import select

from helpdesk.models import AuditEvent, Callback, CallbackAttempt, Ticket

WEB_CALLER = "+381601112233"


@pytest.fixture
def phone_app(tmp_path, double, phone_db_url):
    app = make_phone_app(
        tmp_path,
        double,
        HELPDESK_DATABASE_URL=phone_db_url,
        HELPDESK_CHANNELS="channels.phone,channels.web",
    )
    yield app
    app.extensions[EXTENSION_KEY].worker.stop()
    app.extensions["helpdesk"].db.dispose()


def queue_rows(page: str) -> list[tuple[str, str]]:
    """(reference, phone) of each row of the callback queue, in page order."""
    rows = re.findall(r'<tr class="callback-row.*?</tr>', page, re.S)
    return [
        (re.search(r"HD-\d{4}-\d{6}", row).group(0), re.search(r'href="tel:([^"]+)"', row).group(1))  # type: ignore[union-attr]
        for row in rows
    ]


def test_ivr_and_web_callbacks_queue_by_time_and_outcomes_reach_the_figures(phone_app, svc, twilio):
    # 10:00 on a Tuesday in Belgrade: today's windows are 10-12, 12-14, 14-16.
    call = twilio.call(CALLER)
    twilio.press(call, "2")
    assert "To have us call you back later, press 4" in call.heard[-1]
    twilio.press(call, "4")
    offers = call.heard[-3:]
    assert offers == [
        "To be called today from 10:00 to 12:00, press 1.",
        "To be called today from 12:00 to 14:00, press 2.",
        # two a day, then the next working day: Wednesday 11 November is Armistice Day
        "To be called on Thursday 12 November from 08:00 to 10:00, press 3.",
    ]
    action = call.pending.attrs["action"]
    twilio.press(call, "2")
    assert call.heard[-2].startswith("Thank you. We will call you today from 12:00 to 14:00")
    # Twilio delivers the same key press twice: still one callback, one message.
    retry = {"CallSid": call.call_sid, "From": CALLER, "To": TWILIO_NUMBER, "Digits": "2"}
    status, body = signed_poster(phone_app)(action, retry)
    assert status == 200 and "We will call you today from 12:00 to 14:00" in body
    with svc.db.session() as s:
        assert s.scalars(select(Callback.phone)).all() == [CALLER]
        assert len(s.scalars(select(Ticket)).one().messages) == 1

    # An earlier window asked on the web page comes first in the queue.
    web = phone_app.test_client()
    token = csrf_token(web, "/callback?lang=en")
    page = web.get("/callback?lang=en").get_data(as_text=True)
    first_key = re.search(r'name="window" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    sent = web.post(
        "/callback?lang=en",
        data={
            "csrf_token": token,
            "phone": "060 111 2233",
            "name": "Milica",
            "window": first_key,
            "topic": "Ne mogu da se prijavim na eUpravu",
            "accommodation": ["screen_reader", "bogus"],
            "consent": "yes",
        },
    )
    assert sent.status_code == 303
    confirmation = web.get(sent.headers["Location"]).get_data(as_text=True)
    assert "10:00–12:00" in confirmation and "HD-" in confirmation

    agent = phone_app.test_client()
    make_agent(svc, role="supervisor")
    login(agent, svc)
    queue = agent.get("/console/callbacks?lang=en").get_data(as_text=True)
    rows = queue_rows(queue)
    assert [phone for _, phone in rows] == [WEB_CALLER, CALLER]
    assert "Uses a screen reader" in queue  # the citizen's accommodation beside the number
    web_ref, ivr_ref = rows[0][0], rows[1][0]

    token = csrf_token(agent, "/console/callbacks?lang=en")
    moved = agent.post(
        f"/console/tickets/{ivr_ref}/callback/outcome",
        data={"csrf_token": token, "outcome": "no_answer", "next": "/console/callbacks"},
    )
    assert moved.status_code == 302
    queue = agent.get("/console/callbacks?lang=en").get_data(as_text=True)
    assert "12:00–14:00" not in queue and "14:00–16:00" in queue  # back in the queue, next window
    agent.post(
        f"/console/tickets/{web_ref}/callback/outcome",
        data={"csrf_token": token, "outcome": "reached", "note": "Objasnila prijavu"},
    )
    queue = agent.get("/console/callbacks?lang=en").get_data(as_text=True)
    assert [phone for _, phone in queue_rows(queue)] == [CALLER]

    ticket = agent.get(f"/console/tickets/{web_ref}?lang=en").get_data(as_text=True)
    assert "Reached the citizen." in ticket and "Objasnila prijavu" in ticket  # on the timeline
    with svc.db.session() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("callback.%"))).all()
        assert sorted(actions) == [
            "callback.outcome",
            "callback.outcome",
            "callback.requested",
            "callback.requested",
        ]
        assert s.scalar(select(Ticket.channel).where(Ticket.reference == ivr_ref)) == "phone"
        assert len(s.scalars(select(CallbackAttempt)).all()) == 2

    dashboard = agent.get("/supervisor?lang=en").get_data(as_text=True)
    section = dashboard[dashboard.index('id="figure-callbacks"') :]
    this_week = re.search(r"<tr><th scope=\"row\">2026-W46</th>(.*?)</tr>", section).group(1)  # type: ignore[union-attr]
    assert re.findall(r"<td>(\d+)</td>", this_week) == ["2", "1", "1", "0"]


def test_ivr_refuses_a_stale_or_unknown_window_and_a_hidden_number(twilio, svc):
    call = twilio.call(CALLER)
    twilio.press(call, "1")
    twilio.press(call, "4")
    assert call.heard[-3:] == [
        "Da vas pozovemo danas od 10 do 12, pritisnite 1.",
        "Da vas pozovemo danas od 12 do 14, pritisnite 2.",
        "Da vas pozovemo u četvrtak 12. novembra od 8 do 10, pritisnite 3.",
    ]
    twilio.press(call, "7")
    assert "Nismo razumeli izbor." in call.heard
    hidden = twilio.call("anonymous")
    twilio.press(hidden, "1")
    twilio.press(hidden, "4")
    assert any("Vaš broj je skriven" in line for line in hidden.heard)
    with svc.db.session() as s:
        assert s.scalars(select(Callback)).all() == []
