"""A weekly report: the figures of a range of weeks, the week before it, and the changes."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk.db import Database
from helpdesk.metrics.callbacks import CALLBACK_FIGURES
from helpdesk.metrics.rollup import rollup_figures
from helpdesk.metrics.weekly import Filters, WeekFigures, weekly_figures
from helpdesk.metrics.weeks import Week, last_weeks, parse_week, previous, week_range

DEFAULT_WEEKS = 12


@dataclass
class WeeklyReport:
    weeks: list[WeekFigures]
    before: WeekFigures  # the week before the first, for the first week's change
    filters: Filters

    def to_json(self) -> dict[str, Any]:
        return {"weeks": [w.to_json() for w in self.weeks]}

    def changes(self) -> list[dict[str, float | int | None]]:
        """Per week, the change from the week before (None where either side has no value)."""
        out = []
        for prev, cur in zip([self.before, *self.weeks], self.weeks, strict=False):
            out.append(
                {
                    "total": cur.total - prev.total,
                    "backlog": cur.backlog - prev.backlog,
                    "deflected": cur.deflected - prev.deflected,
                    "first_response_median": _delta(
                        cur.first_response.median_seconds, prev.first_response.median_seconds
                    ),
                    "resolution_median": _delta(
                        cur.resolution.median_seconds, prev.resolution.median_seconds
                    ),
                    "sla_compliance": _delta(cur.sla_compliance, prev.sla_compliance, 4),
                    "csat": _delta(cur.csat, prev.csat, 2),
                }
            )
        return out


def _delta(cur: float | None, prev: float | None, digits: int = 0) -> float | int | None:
    if cur is None or prev is None:
        return None
    return round(cur - prev, digits) if digits else int(cur - prev)


def resolve_weeks(
    first: str | None, last: str | None, now: datetime, tz: ZoneInfo, default: int = DEFAULT_WEEKS
) -> list[Week]:
    """Weeks from labels like '2026-W40'; missing ends default to the last `default` weeks."""
    if first is None and last is None:
        return last_weeks(now, default, tz)
    if last is None:
        return week_range(parse_week(first or "", tz), last_weeks(now, 1, tz)[0], tz)
    end = parse_week(last, tz)
    if first is None:
        return last_weeks(end.start, default, tz)
    return week_range(parse_week(first, tz), end, tz)


def weekly_report(
    db: Database, weeks: Sequence[Week], now: datetime, filters: Filters, tz: ZoneInfo
) -> WeeklyReport:
    span = [previous(weeks[0], tz), *weeks]
    figures = rollup_figures(db, span, now, filters)
    return WeeklyReport(figures[1:], figures[0], filters)


def recomputed_report(
    db: Database, weeks: Sequence[Week], now: datetime, filters: Filters, tz: ZoneInfo
) -> WeeklyReport:
    """`weekly_report` computed from the tickets alone, no rollups (the reference it must match)."""
    with db.session() as session:
        span = [previous(weeks[0], tz), *weeks]
        figures = weekly_figures(session, db.dialect, span, now, filters)
    return WeeklyReport(figures[1:], figures[0], filters)


def report_csv(report: WeeklyReport) -> str:
    """One row per week; categories and queues as `category:<name>` / `queue:<name>` columns."""
    categories = sorted({k for w in report.weeks for k in w.by_category})
    queues = sorted({k for w in report.weeks for k in w.by_queue})
    channels = list(report.weeks[0].by_channel) if report.weeks else []
    header = [
        "week", "total", *(f"channel:{c}" for c in channels),
        *(f"category:{c}" for c in categories), *(f"queue:{q}" for q in queues),
        "first_response_median_seconds", "first_response_p90_seconds",
        "resolution_median_seconds", "resolution_p90_seconds",
        "sla_compliance", "backlog", "deflected", "csat", "incident_linked",
        *(f"callbacks_{name}" for name in CALLBACK_FIGURES),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for w in report.weeks:
        writer.writerow(
            [
                w.week, w.total, *(w.by_channel.get(c, 0) for c in channels),
                *(w.by_category.get(c, 0) for c in categories),
                *(w.by_queue.get(q, 0) for q in queues),
                _cell(w.first_response.median_seconds), _cell(w.first_response.p90_seconds),
                _cell(w.resolution.median_seconds), _cell(w.resolution.p90_seconds),
                _cell(w.sla_compliance), w.backlog, w.deflected, _cell(w.csat),
                w.incident_linked, *(getattr(w.callbacks, name) for name in CALLBACK_FIGURES),
            ]
        )
    return out.getvalue()


def _cell(value: object) -> object:
    return "" if value is None else value
