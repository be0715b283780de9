"""The dashboard, its CSV exports and the metrics API, through the Flask test client."""

from __future__ import annotations

import csv
import io

from metrics_scenario import EXPECTED

from helpdesk import create_app
from helpdesk.auth.accounts import create_token
from helpdesk.models import Agent
from tests.conftest import add_agent, login

RANGE = {"from": "2026-W42", "to": "2026-W46"}


def spreadsheet(response):
    """Rows as a spreadsheet opens the file: UTF-8 by its byte-order mark, columns split at ;."""
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def client_for(svc):
    return create_app(svc.settings, services=svc).test_client()


def token_for(svc, role):
    agent_id = add_agent(svc, f"{role}-api@helpdesk.localhost", role)
    with svc.db.transaction() as s:
        return create_token(s, s.get(Agent, agent_id), svc.clock.now())


def test_api_returns_exactly_the_weekly_shape(scenario_db, metrics_svc):
    client = client_for(metrics_svc)
    token = token_for(metrics_svc, "supervisor")
    response = client.get("/api/v1/metrics/weekly", query_string=RANGE,
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["weeks"]
    assert body["weeks"] == [{"week": w, **EXPECTED[w]} for w in EXPECTED]


def test_api_refuses_agents_missing_tokens_and_bad_weeks(metrics_svc):
    client = client_for(metrics_svc)
    assert client.get("/api/v1/metrics/weekly").status_code == 401
    agent = token_for(metrics_svc, "agent")
    refused = client.get("/api/v1/metrics/weekly", headers={"Authorization": f"Bearer {agent}"})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    boss = token_for(metrics_svc, "supervisor")
    bad = client.get("/api/v1/metrics/weekly", query_string={"from": "2026-48"},
                     headers={"Authorization": f"Bearer {boss}"})
    assert bad.status_code == 400
    assert "ISO week" in bad.get_json()["error"]["message"]
    default = client.get("/api/v1/metrics/weekly", headers={"Authorization": f"Bearer {boss}"})
    weeks = [w["week"] for w in default.get_json()["weeks"]]
    assert len(weeks) == 12 and weeks[-1] == "2026-W47"  # the clock is at Monday of W47


def test_dashboard_for_supervisors_only(scenario_db, metrics_svc):
    client = client_for(metrics_svc)
    assert client.get("/supervisor").status_code == 302  # to the login page
    login(client, metrics_svc, "agent")
    assert client.get("/supervisor").status_code == 403
    assert client.get("/supervisor/export/volume.csv").status_code == 403


def test_dashboard_shows_charts_tables_and_live_counters(scenario_db, metrics_svc):
    client = client_for(metrics_svc)
    login(client, metrics_svc, "supervisor")
    page = client.get("/supervisor", query_string={**RANGE, "lang": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for key in ("volume", "categories", "queues", "times", "sla", "backlog", "csat"):
        assert f'id="chart-{key}-title"' in html and f'id="table-{key}"' in html
    assert html.count("<svg") == 7
    assert "66.7%" in html  # W44 SLA compliance
    assert "3 d 14 h" in html  # W44 resolution p90 = 86.5 h
    assert "Open past an SLA target" in html


def test_csv_export_of_a_table_follows_the_filters(scenario_db, metrics_svc):
    client = client_for(metrics_svc)
    login(client, metrics_svc, "admin")
    response = client.get("/supervisor/export/volume.csv", query_string={**RANGE, "lang": "en"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = spreadsheet(response)
    assert [(r["Week"], r["Total"], r["Phone"], r["Deflected chats"]) for r in rows] == [
        ("2026-W42", "1", "0", "0"), ("2026-W43", "3", "2", "1"), ("2026-W44", "3", "0", "0"),
        ("2026-W45", "1", "0", "0"), ("2026-W46", "2", "0", "0")]
    times = client.get("/supervisor/export/times.csv", query_string={**RANGE, "channel": "phone"})
    rows = spreadsheet(times)
    assert rows[2]["First response, median"] == "239400"  # T2, the SMS
    english = {**RANGE, "lang": "en"}
    callbacks = spreadsheet(client.get("/supervisor/export/callbacks.csv", query_string=english))
    columns = ("Week", "Requested", "Reached", "No answer", "Wrong number")
    assert [tuple(r[c] for c in columns) for r in callbacks] == [
        ("2026-W42", "0", "0", "0", "0"), ("2026-W43", "1", "0", "1", "0"), ("2026-W44", "0", "1", "0", "0"),
        ("2026-W45", "1", "1", "0", "0"), ("2026-W46", "1", "0", "0", "1")]
    xlsx = client.get("/supervisor/export/callbacks.xlsx", query_string=RANGE)
    assert xlsx.status_code == 200 and xlsx.get_data().startswith(b"PK")
    assert client.get("/supervisor/export/nope.csv").status_code == 404
    bad = client.get("/supervisor/export/volume.csv", query_string={"channel": "fax"})
    assert bad.status_code == 400 and "channel must be" in bad.get_data(as_text=True)


def test_bad_filters_get_a_clear_message_not_an_error_page(metrics_svc):
    client = client_for(metrics_svc)
    login(client, metrics_svc, "supervisor")
    page = client.get("/supervisor", query_string={"from": "2026-W50", "to": "2026-W40",
                                                    "lang": "en"})
    assert page.status_code == 400
    assert "comes after" in page.get_data(as_text=True)


def test_dashboard_in_serbian_latin_and_cyrillic(scenario_db, metrics_svc):
    client = client_for(metrics_svc)
    login(client, metrics_svc, "supervisor")
    latin = client.get("/supervisor", query_string={**RANGE, "lang": "sr-Latn"})
    assert "Upiti po nedeljama i kanalima" in latin.get_data(as_text=True)
    cyrillic = client.get("/supervisor", query_string={**RANGE, "lang": "sr-Cyrl"})
    html = cyrillic.get_data(as_text=True)
    assert "Упити по недељама и каналима" in html
    assert "2026-W44" in html  # week labels stay as they are


def test_csv_export_does_not_hand_spreadsheets_a_formula(scenario_db, metrics_svc):
    from sqlalchemy import update

    from helpdesk.models import Ticket

    with scenario_db.transaction() as s:
        s.execute(update(Ticket).where(Ticket.id == scenario_db.ticket_ids["T1"])
                  .values(category="=HYPERLINK(1)"))
    client = client_for(metrics_svc)
    login(client, metrics_svc, "supervisor")
    body = client.get("/supervisor/export/categories.csv", query_string=RANGE).get_data()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert ["'=HYPERLINK(1)", "0", "1", "0", "0", "0", "1"] in rows


def test_filter_menus_from_the_figures_equal_a_read_of_the_tickets(scenario_db, metrics_svc):
    # Unfiltered, the weeks shown reaching this week: the menus come from the report's figures
    # (helpdesk.supervisor.filters.choices_from_figures), the same as reading the tickets again.
    import re
    from zoneinfo import ZoneInfo

    from helpdesk.metrics.weeks import parse_week
    from helpdesk.supervisor.filters import filter_choices

    client = client_for(metrics_svc)
    login(client, metrics_svc, "supervisor")
    for args in (RANGE, {"from": "2026-W44", "to": "2026-W46"}):
        html = client.get("/supervisor", query_string={**args, "lang": "en"}).get_data(as_text=True)
        menus = {}
        for name in ("queue", "category"):
            select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
            assert select, name
            menus[name] = [v for v in re.findall(r'<option value="([^"]*)"', select[0]) if v]
        since = parse_week(args["from"], ZoneInfo(metrics_svc.settings.timezone))
        assert (menus["queue"], menus["category"]) == filter_choices(scenario_db, since.start)
        assert menus["category"]  # the scenario has categorized tickets in these weeks


def test_whole_numbers_are_written_as_babel_writes_them(metrics_svc):
    from flask_babel import format_decimal

    from helpdesk.supervisor.tables import number

    app = create_app(metrics_svc.settings, services=metrics_svc)
    for lang in ("en", "sr_Latn", "sr_Cyrl"):
        with app.test_request_context(f"/supervisor?lang={lang}"):
            for n in (0, 5, 999, 1000, 12345, 999999, 1000000, -1, -4321, 10**12):
                assert number(n).text == format_decimal(n), (lang, n)
            assert number(2.5).text == format_decimal(2.5)
            assert number(12345).text == ("12,345" if lang == "en" else "12.345")
