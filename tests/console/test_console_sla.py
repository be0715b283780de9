"""A ticket close to its SLA deadline in the console: the row says so, supervisors are told live.

The server runs in this process (start_live_server) so the test can hold the clock and run one pass
of the SLA watch itself; the consoles are real python-socketio clients and a real Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from hd_servers import Console, login_cookie
from sqlalchemy import insert, select

from helpdesk.models import Queue, queue_members
from helpdesk.services import FixedClock
from helpdesk.sla import BusinessHoursSla, SlaChecker
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, set_queue
from tests.conftest import T0, LiveServer, add_agent, axe, browser_login, start_live_server

SUPERVISOR = "sara@helpdesk.test"
AGENT_IN_QUEUE = "ana@helpdesk.test"
AGENT_ELSEWHERE = "vesna@helpdesk.test"
# T0 is Monday 10:00 in Belgrade; a normal ticket's first response is due 4 business hours later.
# With 30 minutes left (under the 25 % warning share) the watch warns.
CLOSE_TO_DUE = T0 + timedelta(hours=3, minutes=30)


def _join(server: LiveServer, agent_id: int, queue: str) -> None:
    with server.services.db.transaction() as s:
        queue_id = s.scalar(select(Queue.id).where(Queue.name == queue))
        s.execute(insert(queue_members).values(agent_id=agent_id, queue_id=queue_id))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    # The background watch runs once at start (no tickets yet), then not again during the test.
    srv = start_live_server(tmp_path, channels=(), sla_check_seconds=3600.0)
    svc = srv.services
    assert isinstance(svc.sla, BusinessHoursSla)
    svc.clock = FixedClock(T0)
    _join(srv, add_agent(svc, SUPERVISOR, "supervisor", name="Sara"), "payments")
    _join(srv, add_agent(svc, AGENT_IN_QUEUE, name="Ana"), "payments")
    _join(srv, add_agent(svc, AGENT_ELSEWHERE, name="Vesna"), "documents")
    yield srv
    srv.stop()
    srv.services.db.dispose()


def _open_ticket(server: LiveServer, subject: str) -> str:
    svc = server.services
    result = receive_inbound(svc, InboundMessage(
        channel="email", sender=Identity("email", "gradjanin@example.rs"), subject=subject,
        text="Uplata nije proknjižena."))
    set_queue(svc, result.ticket_reference, Actor.system("test"), "payments")
    return result.ticket_reference


def _row(html: str, reference: str) -> str:
    found = re.search(rf'<tr data-reference="{reference}"[^>]*>.*?</tr>', html, re.S)
    assert found, f"{reference} is not in the list"
    return found.group(0)


def test_supervisor_is_told_live_and_the_row_says_due_soon(server: LiveServer) -> None:
    reference = _open_ticket(server, "Uplata takse")
    sara_cookie = login_cookie(server.url, SUPERVISOR)
    sara = Console(server.url, sara_cookie)
    ana = Console(server.url, login_cookie(server.url, AGENT_IN_QUEUE))
    vesna_cookie = login_cookie(server.url, AGENT_ELSEWHERE)
    vesna = Console(server.url, vesna_cookie)
    try:
        board = requests.get(
            f"{server.url}/console/board?lang=en", headers={"Cookie": sara_cookie}, timeout=10
        ).text
        assert "Due soon" not in _row(board, reference)  # four hours left: nothing to flag yet

        server.services.clock.at = CLOSE_TO_DUE
        result = SlaChecker(server.services).check()
        assert result.warned == [reference]

        name, data = sara.wait_for(lambda n, d: n == "sla.warning")
        ticket = data["ticket"]
        assert ticket["reference"] == reference and ticket["sla_state"] == "warning"
        assert ticket["queue"] == "payments" and ticket["sla_target"] == "first_response"
        ana.wait_for(lambda n, d: n == "sla.warning")  # the queue's console highlights the row
        # Vesna works another queue: a round trip after the others got it, and still nothing.
        assert vesna.call("heartbeat", {})["ok"]
        assert not [n for n, _ in vesna.events if n.startswith("sla.")]

        page = requests.get(
            f"{server.url}/console?lang=en", headers={"Cookie": sara_cookie}, timeout=10
        ).text
        row = _row(page, reference)
        assert "sla-warning" in row and 'data-sla="warning"' in row
        assert ">Due soon</span>" in row  # in words, not colour alone
        assert "css/sla.css" in page
        for lang, words in (("sr-Latn", "Rok ističe"), ("sr-Cyrl", "Рок истиче")):
            board = requests.get(
                f"{server.url}/console/board?lang={lang}", headers={"Cookie": sara_cookie}, timeout=10
            ).text
            assert words in _row(board, reference), lang
        # The ticket the agent in another queue can't see is not in her list either.
        other = requests.get(
            f"{server.url}/console/board?lang=en", headers={"Cookie": vesna_cookie}, timeout=10
        ).text
        assert reference not in other
    finally:
        for console in (sara, ana, vesna):
            console.close()


def test_a_passed_deadline_reads_overdue(server: LiveServer) -> None:
    reference = _open_ticket(server, "Rok je prošao")
    server.services.clock.at = T0 + timedelta(hours=5)  # first response was due an hour ago
    sara_cookie = login_cookie(server.url, SUPERVISOR)
    sara = Console(server.url, sara_cookie)
    try:
        assert SlaChecker(server.services).check().breached == [reference]
        _, data = sara.wait_for(lambda n, d: n == "sla.breached")
        assert data["ticket"]["reference"] == reference
        board = requests.get(
            f"{server.url}/console/board?lang=en",
            headers={"Cookie": sara_cookie}, timeout=10,
        ).text
        row = _row(board, reference)
        assert "sla-breached" in row and ">Overdue</span>" in row
    finally:
        sara.close()


@pytest.mark.browser
def test_console_page_marks_the_row_and_announces_it_live(server: LiveServer, page: Any) -> None:
    reference = _open_ticket(server, "Uplata takse")
    server.services.clock.at = T0 + timedelta(hours=1)
    browser_login(page, server.url, SUPERVISOR)
    page.goto(f"{server.url}/console?lang=en")
    row = page.locator(f'#ticket-list tr[data-reference="{reference}"]')
    assert row.count() == 1 and row.get_by_text("Due soon").count() == 0
    page.get_by_text("Live", exact=True).wait_for()  # the console socket is connected

    server.services.clock.at = CLOSE_TO_DUE
    assert SlaChecker(server.services).check().warned == [reference]

    notice = page.locator("#sla-notice")
    notice.get_by_text(f"{reference} is close to its deadline").wait_for()
    badge = row.get_by_text("Due soon", exact=True)
    badge.wait_for()
    assert badge.is_visible()
    assert "sla-warning" in (row.get_attribute("class") or "")
    assert axe(page) == []
