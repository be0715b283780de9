"""The supervisor dashboard: weekly service levels, today's counters, charts and CSV exports."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from helpdesk.access import REPORTS_ROLE
from helpdesk.auth import roles_required
from helpdesk.metrics import REPORT_CHANNELS, Filters, WeekFigures, WeeklyReport, live_counters, weekly_report
from helpdesk.metrics.agent_rollup import agent_figures_by_weeks
from helpdesk.services import current_services
from helpdesk.supervisor.charts import Series, bar_chart, hbar_chart, line_chart
from helpdesk.supervisor.filters import (
    FilterError,
    Query,
    choices_from_figures,
    current_week,
    filter_choices,
    read_query,
)
from helpdesk.supervisor.tables import Table, agent_table, build_tables, channel_name, duration

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


def _query() -> tuple[Query, str | None]:
    svc = current_services()
    tz = ZoneInfo(svc.settings.timezone)
    now = svc.clock.now()
    try:
        return read_query(request.args, now, tz, complete_weeks=True), None
    except FilterError as exc:
        return read_query({}, now, tz, complete_weeks=True), str(exc)


def _charts(tables: dict[str, Table], labels: list[str]) -> dict[str, object]:
    desc = _("The exact figures are in the table below this chart.")
    volume = tables["volume"]
    channels = [
        Series(channel_name(c), [row[i + 1].raw for row in volume.rows], f"series-{i + 1}")
        for i, c in enumerate(REPORT_CHANNELS)
    ]
    times = tables["times"]
    hours = [
        Series(name, [None if r[col].raw is None else r[col].raw / 3600 for r in times.rows], css)
        for name, col, css in (
            (_("First response, median"), 1, "series-1"),
            (_("First response, 90th percentile"), 2, "series-2"),
            (_("Resolution, median"), 3, "series-3"),
            (_("Resolution, 90th percentile"), 4, "series-4"),
        )
    ]
    sla = [Series(_("Compliance"), [None if r[3].raw is None else r[3].raw * 100
                                    for r in tables["sla"].rows], "series-1")]
    return {
        "volume": bar_chart("chart-volume", volume.caption, desc, labels, channels),
        "categories": hbar_chart("chart-categories", tables["categories"].caption, desc,
                                 [(r[0].raw, r[-1].raw) for r in tables["categories"].rows]),
        "queues": hbar_chart("chart-queues", tables["queues"].caption, desc,
                             [(r[0].raw, r[-1].raw) for r in tables["queues"].rows]),
        "times": line_chart("chart-times", times.caption, desc, labels, hours,
                            fmt=lambda v: _("%(h)s h", h=format_decimal(round(v, 2))),
                            whole=False),
        "sla": bar_chart("chart-sla", tables["sla"].caption, desc, labels, sla,
                         fmt=lambda v: f"{v:.0f} %", top=100),
        "backlog": line_chart("chart-backlog", tables["backlog"].caption, desc, labels,
                              [Series(_("Backlog"), [r[1].raw for r in tables["backlog"].rows],
                                      "series-1")]),
        "csat": bar_chart("chart-csat", tables["csat"].caption, desc, labels,
                          [Series(_("Average score"), [r[1].raw for r in tables["csat"].rows],
                                  "series-2")], fmt=lambda v: f"{v:.0f}", top=5, steps=5),
    }


def _report_tables(query: Query) -> tuple[dict[str, Table], WeeklyReport]:
    svc = current_services()
    tz = ZoneInfo(svc.settings.timezone)
    report = weekly_report(svc.db, query.weeks, svc.clock.now(), query.filters, tz)
    tables = build_tables(report)
    agents = agent_figures_by_weeks(svc.db, query.weeks, svc.clock.now(), query.filters)
    tables["agents"] = agent_table(agents)
    return tables, report


def _has_data(table: Table, columns: list[int], counts: bool) -> bool:
    """False when every figure the chart would draw is missing (or, for counts, zero)."""
    width = len(table.columns)
    values = [row[c % width].raw for row in table.rows for c in columns]
    return any(v for v in values) if counts else any(v is not None for v in values)


def _so_far(query: Query) -> tuple[str, WeekFigures]:
    """The current, incomplete week, shown apart from the complete ones."""
    svc = current_services()
    tz = ZoneInfo(svc.settings.timezone)
    now = svc.clock.now()
    week = current_week(now, tz)
    return week.label, weekly_report(svc.db, [week], now, query.filters, tz).weeks[0]


@bp.get("")
@roles_required(REPORTS_ROLE)  # the access policy names who sees reports
def dashboard() -> tuple[str, int]:
    svc = current_services()
    tz = ZoneInfo(svc.settings.timezone)
    query, error = _query()
    tables, report = _report_tables(query)
    labels = [w.label for w in query.weeks]
    charts = _charts(tables, labels)
    drawn = {"volume": ([len(REPORT_CHANNELS) + 1], True), "categories": ([-1], True),
             "queues": ([-1], True), "times": ([1, 2, 3, 4], False), "sla": ([3], False),
             "backlog": ([1], True), "csat": ([1], False)}
    for key, (columns, counts) in drawn.items():
        if not _has_data(tables[key], columns, counts):
            charts[key] = None  # the page says "no data yet" instead of an empty chart
    so_far_label, so_far = _so_far(query)
    if query.filters == Filters() and query.weeks[-1].end == current_week(svc.clock.now(), tz).start:
        # Unfiltered, and the weeks shown reach this week: their figures hold every queue and
        # category of the tickets since the first week (a second read of them cost ~100 ms).
        queues, categories = choices_from_figures(svc.db, [*report.weeks, so_far])
    else:
        queues, categories = filter_choices(svc.db, query.weeks[0].start)
    # The weekly report's callback figures: the complete weeks shown, then this week so far.
    callback_weeks = [(w.week, w.callbacks) for w in report.weeks]
    if so_far_label not in labels:
        callback_weeks.append((so_far_label, so_far.callbacks))
    html = render_template(
        "supervisor/dashboard.html",
        query=query,
        error=error,
        tables=tables,
        charts=charts,
        so_far_label=so_far_label,
        so_far=so_far,
        callback_weeks=callback_weeks,
        duration=duration,
        live=live_counters(svc.db, svc.clock.now(), tz, query.filters),
        channels=[(c, channel_name(c)) for c in REPORT_CHANNELS],
        queues=queues,
        categories=categories,
        export_args={k: v for k, v in request.args.items() if k != "lang" and v} if not error else {},
    )
    return html, 400 if error else 200


@bp.get("/export/<table_id>.xlsx")
@roles_required(REPORTS_ROLE)
def export_xlsx(table_id: str) -> Response:
    return export(table_id, "xlsx")


@bp.get("/export/<table_id>.csv")
@roles_required(REPORTS_ROLE)
def export(table_id: str, kind: str = "csv") -> Response:
    query, error = _query()
    if error:
        return Response(error + "\n", status=400, mimetype="text/plain")
    tables, _report = _report_tables(query)
    table = tables.get(table_id)
    if table is None:
        abort(404)
    filename = f"helpdesk-{table_id}-{query.first}-{query.last}.{kind}"
    if kind == "xlsx":
        return Response(
            table.to_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return Response(
        table.to_csv(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
