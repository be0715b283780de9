"""Supervisor figures: weekly service levels and today's counters, aggregated in SQL."""

from helpdesk.metrics import changes  # noqa: F401 - registers the rollups' change log hook
from helpdesk.metrics.live import LiveCounters, live_counters
from helpdesk.metrics.report import WeeklyReport, report_csv, resolve_weeks, weekly_report
from helpdesk.metrics.weekly import REPORT_CHANNELS, Filters, Percentiles, WeekFigures
from helpdesk.metrics.weeks import Week, WeekError, parse_week

__all__ = [
    "REPORT_CHANNELS",
    "Filters",
    "LiveCounters",
    "Percentiles",
    "Week",
    "WeekError",
    "WeekFigures",
    "WeeklyReport",
    "live_counters",
    "parse_week",
    "report_csv",
    "resolve_weeks",
    "weekly_report",
]
