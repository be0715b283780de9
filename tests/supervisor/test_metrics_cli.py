"""`helpdesk metrics weekly` prints the same figures as the API, as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json

from metrics_scenario import EXPECTED

from helpdesk import create_app
from helpdesk.cli.metrics import metrics, sla


def test_weekly_json_and_csv(scenario_db, metrics_svc):
    runner = create_app(metrics_svc.settings, services=metrics_svc).test_cli_runner()
    out = runner.invoke(metrics, ["weekly", "--from", "2026-W42", "--to", "2026-W46"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {"weeks": [{"week": w, **EXPECTED[w]} for w in EXPECTED]}
    out = runner.invoke(metrics, ["weekly", "--from", "2026-W43", "--to", "2026-W44",
                                  "--format", "csv", "--queue", "finance"])
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [(r["week"], r["total"], r["backlog"]) for r in rows] == [
        ("2026-W43", "1", "0"), ("2026-W44", "2", "1")]


def test_bad_week_is_a_usage_error(metrics_svc):
    runner = create_app(metrics_svc.settings, services=metrics_svc).test_cli_runner()
    out = runner.invoke(metrics, ["weekly", "--from", "W40"])
    assert out.exit_code == 2 and "not an ISO week" in out.output


def test_sla_check_records_breaches(scenario_db, metrics_svc):
    runner = create_app(metrics_svc.settings, services=metrics_svc).test_cli_runner()
    out = runner.invoke(sla, ["check"])
    assert out.exit_code == 0 and "breached: 1" in out.output
