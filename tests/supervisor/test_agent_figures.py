"""Per-agent figures against numbers worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk import create_app
from helpdesk.metrics.agents import agent_figures
from helpdesk.metrics.weekly import Filters
from helpdesk.models import Agent, Contact, Queue, Ticket
from helpdesk.services import FixedClock
from tests.conftest import add_agent, login

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday of 2026-W48, 10:00 in Belgrade
START, END = T0 - timedelta(hours=10), T0 + timedelta(days=7) - timedelta(hours=10)
MIN, HOUR, DAY = 60, 3600, 86400


def ticket(s, n, contact, agent, created, first=None, resolved=None, csat=None, **extra):
    t = Ticket(reference=f"HD-2026-{n:06d}", subject=f"T{n}", status="resolved" if resolved else "open",
               channel="email", queue="payments", contact_id=contact, assignee_id=agent,
               created_at=created, updated_at=created, reply_token=f"tok{n}", csat_score=csat,
               first_response_at=first and created + timedelta(seconds=first),
               resolved_at=resolved and created + timedelta(seconds=resolved), **extra)
    s.add(t)
    s.flush()
    return t


@pytest.fixture
def hand_counted(store):
    ana = add_agent(store, "ana@example.rs", name="Ana")
    boris = add_agent(store, "boris@example.rs", name="Boris")
    vesna = add_agent(store, "vesna@example.rs", name="Vesna")
    gone = add_agent(store, "gone@example.rs", name="Gone", active=False)
    with store.db.transaction() as s:
        payments = s.get(Queue, 3)
        payments.members.append(s.get(Agent, vesna))  # works a queue, has no tickets yet
        c = Contact(name="Citizen")
        s.add(c)
        s.flush()
        ticket(s, 1, c.id, ana, T0, first=10 * MIN, resolved=2 * HOUR, csat=5)
        ticket(s, 2, c.id, ana, T0 + timedelta(hours=1), first=30 * MIN, resolved=4 * HOUR, csat=3)
        ticket(s, 3, c.id, ana, T0 + timedelta(hours=2), first=20 * MIN)  # answered, still open
        # opened two weeks earlier (first answer then), resolved in this week
        ticket(s, 4, c.id, ana, T0 - timedelta(days=14), first=5 * MIN, resolved=15 * DAY)
        target = ticket(s, 5, c.id, boris, T0, first=HOUR, resolved=DAY)
        ticket(s, 6, c.id, boris, T0, first=MIN, resolved=HOUR, csat=1, merged_into_id=target.id)
        ticket(s, 7, c.id, boris, T0 + timedelta(days=6, hours=20), resolved=HOUR)  # next week
        ticket(s, 8, c.id, None, T0, first=MIN, resolved=HOUR, csat=2)  # nobody's
        ticket(s, 9, c.id, gone, T0 - timedelta(days=30), first=MIN, resolved=31 * DAY, csat=4)
    return {"ana": ana, "boris": boris}


def test_per_agent_figures_match_the_hand_count(store, hand_counted):
    ana = hand_counted["ana"]
    rows = {r.name: r.to_json() for r in agent_figures(store.db, START, END, Filters())}
    # Ana: resolved 1, 2, 4; first answers 600, 1200, 1800 s (median the 2nd); resolutions
    # 7200, 14400, 1296000 s (median 14400); ratings 5 and 3.
    assert rows["Ana"] == {
        "agent_id": ana, "name": "Ana", "handled": 3, "first_response_median_seconds": 1200,
        "first_responses": 3, "resolution_median_seconds": 14400, "csat": 4.0, "csat_answers": 2,
    }
    # Boris: only ticket 5 (6 was merged into it, 7 is resolved next week)
    assert rows["Boris"] | {"agent_id": 0} == {
        "agent_id": 0, "name": "Boris", "handled": 1, "first_response_median_seconds": 3600,
        "first_responses": 1, "resolution_median_seconds": 86400, "csat": None, "csat_answers": 0,
    }
    # Vesna works a queue and has nothing yet; the deactivated agent still has last week's work
    assert rows["Vesna"]["handled"] == 0 and rows["Vesna"]["first_response_median_seconds"] is None
    assert rows["Gone"]["handled"] == 1 and rows["Gone"]["csat"] == 4.0
    assert list(rows) == ["Ana", "Boris", "Gone", "Vesna"]
    # a filter narrows every figure
    assert agent_figures(store.db, START, END, Filters(queue="elsewhere"))[0].handled == 0


def spreadsheet(response):
    """Rows as a spreadsheet opens the file: UTF-8 by its byte-order mark, columns split at ;."""
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf") and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_dashboard_shows_the_agents_and_a_serbian_spreadsheet_opens_their_csv(store, hand_counted):
    store.clock = FixedClock(T0 + timedelta(days=8))  # Tuesday of 2026-W49
    client = create_app(store.settings, services=store).test_client()
    login(client, store, "supervisor")
    page = client.get("/supervisor?lang=sr-Latn").get_data(as_text=True)
    # the default range ends with the last complete week; the current one stands apart
    assert 'id="sv-to" name="to" type="week" value="2026-W48"' in page
    assert "Ova nedelja do sada (2026-W49)" in page
    assert 'id="table-agents"' in page and "još nema podataka" in page  # Vesna: nothing yet

    week = {"from": "2026-W48", "to": "2026-W48"}
    export = client.get("/supervisor/export/agents.csv", query_string=week)
    rows = {r["Agent"]: r for r in spreadsheet(export)}
    assert list(rows["Ana"].items()) == [
        ("Agent", "Ana"), ("Rešeni tiketi", "3"), ("Prvi odgovor, medijana", "1200"),
        ("Prvi odgovori", "3"), ("Rešavanje, medijana", "14400"), ("Prosečna ocena", "4"),
        ("Odgovori", "2"),
    ]
    assert rows["Vesna"]["Prvi odgovor, medijana"] == "" and rows["Vesna"]["Rešeni tiketi"] == "0"
    # the same table as a workbook: headers as text, figures as numbers
    book = client.get("/supervisor/export/agents.xlsx", query_string=week)
    assert book.status_code == 200 and book.mimetype.endswith("spreadsheetml.sheet")
    with zipfile.ZipFile(io.BytesIO(book.get_data())) as xlsx:
        strings = xlsx.read("xl/sharedStrings.xml").decode()
        sheet = xlsx.read("xl/worksheets/sheet1.xml").decode()
    assert "Rešeni tiketi" in strings and "Ana" in strings
    assert "<v>1200</v>" in sheet and "<v>14400</v>" in sheet
    # decimals carry the language's decimal mark: ratings 5, 3, 2 and 4 resolved that week
    english = client.get("/supervisor/export/csat.csv", query_string={**week, "lang": "en"})
    serbian = client.get("/supervisor/export/csat.csv", query_string={**week, "lang": "sr-Latn"})
    assert spreadsheet(english)[0]["Average score"] == "3.5"
    assert spreadsheet(serbian)[0]["Prosečna ocena"] == "3,5"


def test_a_new_install_says_no_data_yet_instead_of_empty_charts(services):
    client = create_app(services.settings, services=services).test_client()
    login(client, services, "supervisor")
    html = client.get("/supervisor?lang=en").get_data(as_text=True)
    assert html.count("No data yet for these weeks and filters.") == 7 and "<svg" not in html
    assert "no data yet" in html
