"""The /console namespace and pages: who may connect, see and change what."""

from __future__ import annotations

import re
import time
from typing import Any

import requests
import socketio
from hd_servers import Citizen, Console, Server


def refused_reason(url: str, headers: dict[str, str] | None = None) -> str:
    sio = socketio.Client(reconnection=False)
    reasons: list[str] = []
    sio.on("connect_error", lambda data: reasons.append(str(data)), namespace="/console")
    try:
        sio.connect(
            url,
            namespaces=["/console"],
            headers=headers or {},
            transports=["websocket"],
            wait_timeout=5,
        )
    except socketio.exceptions.ConnectionError:
        return " ".join(reasons) or "refused"
    finally:
        sio.disconnect()
    raise AssertionError("the console namespace accepted the connection")


def test_console_refuses_connections_without_an_agent_session(console_server: Server) -> None:
    assert "unauthorized" in refused_reason(console_server.url)
    assert "unauthorized" in refused_reason(console_server.url, {"Cookie": "helpdesk_session=forged"})


def test_console_refuses_a_foreign_origin_even_with_a_session(
    console_server: Server, cookie_for: Any
) -> None:
    cookie = cookie_for("ana@helpdesk.test")
    # Engine.IO already refuses unknown origins; this checks the namespace's own guard too.
    reason = refused_reason(console_server.url, {"Cookie": cookie, "Origin": "http://evil.example"})
    assert reason


def test_console_pages_need_login(console_server: Server) -> None:
    r = requests.get(console_server.url + "/console", allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303) and "/login" in r.headers["Location"]


def test_every_event_checks_queue_and_role(console_server: Server, cookie_for: Any) -> None:
    url = console_server.url
    citizen = Citizen(url)
    citizen.connect()
    reference = citizen.send("Kako da platim porez?")["reference"]  # lands in "triage"

    vesna = Console(url, cookie_for("vesna@helpdesk.test"))  # works "taxes" only
    for event, payload in [
        ("view", {}),
        ("reply", {"text": "x"}),
        ("note", {"text": "x"}),
        ("claim", {}),
        ("set", {"field": "status", "value": "open"}),
    ]:
        answer = vesna.call(event, {"reference": reference, **payload})
        assert answer["ok"] is False and answer["error"]["code"] == "forbidden", (event, answer)
    page = requests.get(
        f"{url}/console/tickets/{reference}",
        timeout=10,
        headers={"Cookie": cookie_for("vesna@helpdesk.test")},
    )
    assert page.status_code == 403

    ana = Console(url, cookie_for("ana@helpdesk.test"))
    boris_id = None
    # An agent may claim, but may not hand a ticket to someone else.
    assert ana.call("claim", {"reference": reference})["ok"]
    page = requests.get(
        f"{url}/console/tickets/{reference}",
        timeout=10,
        headers={"Cookie": cookie_for("ana@helpdesk.test")},
    ).text
    assert ">Boris</option>" not in page  # her menu offers only what she may do
    page = requests.get(
        f"{url}/console/tickets/{reference}",
        timeout=10,
        headers={"Cookie": cookie_for("sara@helpdesk.test")},
    ).text
    boris_id = int(re.search(r'<option value="(\d+)"[^>]*>Boris</option>', page).group(1))
    refused = ana.call("assign", {"reference": reference, "agent_id": boris_id})
    assert refused["error"]["code"] == "forbidden"
    sara = Console(url, cookie_for("sara@helpdesk.test"))  # supervisor: anyone
    assert sara.call("assign", {"reference": reference, "agent_id": boris_id})["ok"]
    # Bad values are refused in words, nothing crashes.
    assert (
        ana.call("set", {"reference": reference, "field": "status", "value": "zzz"})["error"]["code"]
        == "invalid"
    )
    assert (
        ana.call("set", {"reference": reference, "field": "secret", "value": "x"})["error"]["code"]
        == "bad_field"
    )
    assert ana.call("reply", "garbage")["error"]["code"] == "bad_reference"
    assert ana.call("reply", {"reference": "HD-0000-000000", "text": "x"})["error"]["code"] == "not_found"
    for c in (vesna, ana, sara):
        c.close()
    citizen.drop()


def test_live_updates_presence_and_counts(console_server: Server, cookie_for: Any) -> None:
    url = console_server.url
    ana = Console(url, cookie_for("ana@helpdesk.test"))
    boris = Console(url, cookie_for("boris@helpdesk.test"))
    vesna = Console(url, cookie_for("vesna@helpdesk.test"))
    before = ana.call("counts", {})
    citizen = Citizen(url)
    citizen.connect()
    reference = citizen.send("Zaboravila sam lozinku")["reference"]

    _, created = ana.wait_for(lambda n, d: n == "ticket.created" and d["ticket"]["reference"] == reference)
    assert created["ticket"]["queue"] == "triage"
    after = ana.call("counts", {})
    triage = lambda c: next(q["open"] for q in c["queues"] if q["name"] == "triage")  # noqa: E731
    assert triage(after) == triage(before) + 1
    # Auto-assignment may hand it to an online agent; either way it is counted exactly once.
    mine_or_free = after["unassigned"] + after["mine"] - before["unassigned"] - before["mine"]
    assert mine_or_free in (0, 1)

    assert ana.call("view", {"reference": reference})["ok"]
    assert boris.call("view", {"reference": reference})["ok"]
    assert ana.call("presence", {"reference": reference, "state": "typing"})["ok"]
    _, seen = boris.wait_for(lambda n, d: n == "presence" and d["state"] == "typing")
    assert seen["agent"]["name"] == "Ana" and seen["reference"] == reference

    assert boris.call("set", {"reference": reference, "field": "priority", "value": "high"})["ok"]
    _, updated = ana.wait_for(lambda n, d: n == "ticket.updated" and d["ticket"]["priority"] == "high")
    assert updated["ticket"]["reference"] == reference
    # Vesna does not work this queue: she never hears about it.
    assert not any(d.get("ticket", {}).get("reference") == reference for _, d in vesna.events)
    for c in (ana, boris, vesna):
        c.close()
    citizen.drop()


def test_a_ticket_from_another_channel_appears_live(console_server: Server, cookie_for: Any) -> None:
    """The console hears about every channel: here a web-form inquiry through the public API."""
    url = console_server.url
    sara = Console(url, cookie_for("sara@helpdesk.test"))
    r = requests.post(
        url + "/api/v1/tickets",
        json={
            "contact": {"name": "Jovan", "email": "jovan@example.rs"},
            "subject": "Obrazac za pasoš",
            "body": "Gde mogu da nađem obrazac?",
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    _, created = sara.wait_for(
        lambda n, d: n == "ticket.created" and d["ticket"]["subject"] == "Obrazac za pasoš"
    )
    assert created["ticket"]["channel"] != "chat"
    sara.close()


def test_logging_out_ends_the_live_connection(console_server: Server) -> None:
    url = console_server.url
    http = requests.Session()
    page = http.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    http.post(
        url + "/login",
        timeout=10,
        data={"csrf_token": token, "email": "boris@helpdesk.test", "password": "correct horse battery"},
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    boris = Console(url, cookie)
    assert boris.call("counts", {})["ok"]
    page = http.get(url + "/console", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert http.post(url + "/logout", data={"csrf_token": token}, timeout=10).ok
    boris.sio.emit("counts", {}, namespace="/console")  # any event after the logout
    boris.wait_for(lambda n, d: n == "session_ended")
    deadline = time.monotonic() + 10
    while boris.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not boris.sio.connected  # no more broadcasts for a closed session


def test_moving_a_ticket_out_of_an_agents_queues_stops_its_live_events(
    console_server: Server, cookie_for: Any
) -> None:
    url = console_server.url
    citizen = Citizen(url)
    citizen.connect()
    reference = citizen.send("Pitanje o porezu na imovinu")["reference"]
    ana = Console(url, cookie_for("ana@helpdesk.test"))  # triage
    sara = Console(url, cookie_for("sara@helpdesk.test"))  # supervisor
    assert ana.call("view", {"reference": reference})["ok"]
    # Unassigned (auto-assignment may have given it to Ana) and moved to a queue she does not work.
    assert sara.call("assign", {"reference": reference, "agent_id": None})["ok"]
    assert sara.call("set", {"reference": reference, "field": "queue", "value": "taxes"})["ok"]
    citizen.send("Još jedno pitanje, samo za red Porezi")
    sara.wait_for(lambda n, d: n == "message.created" and "samo za red" in d["message"]["text"])
    assert not any(n == "message.created" and "samo za red" in d["message"]["text"] for n, d in ana.events)
    assert ana.call("view", {"reference": reference})["error"]["code"] == "forbidden"
    for c in (ana, sara):
        c.close()
    citizen.drop()
