"""The dashboard's tables: one definition feeds the HTML table, its chart and its CSV export."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _

from helpdesk.administration.names import display_name
from helpdesk.metrics import REPORT_CHANNELS, WeeklyReport
from helpdesk.metrics.agents import AgentFigures
from helpdesk.metrics.callbacks import CALLBACK_FIGURES


@dataclass(frozen=True)
class Cell:
    text: str  # what the page shows (localized)
    raw: Any  # what the CSV holds (plain number, seconds, ratio)


@dataclass
class Table:
    id: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    csv_columns: list[str] = field(default_factory=list)  # stable English names, for programs

    def to_csv(self) -> str:
        """What a spreadsheet set to Serbian (or English) opens as columns, without asking.

        A byte-order mark says UTF-8 (else Excel reads č as two letters), `;` separates the columns
        (the list separator where the decimal mark is a comma), the headers are the page's, and
        decimals carry the interface language's decimal mark.
        """
        mark = get_decimal_symbol(get_locale() or "en")
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([csv_value(c.raw, mark) for c in row])
        return out.getvalue()

    def to_xlsx(self) -> bytes:
        """The same table as an Excel workbook: numbers stay numbers, text is never a formula."""
        import xlsxwriter  # only the export needs it

        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True})
        sheet = book.add_worksheet(_sheet_name(self.caption))
        bold = book.add_format({"bold": True})
        for col, name in enumerate(self.columns):
            sheet.write_string(0, col, name, bold)
            sheet.set_column(col, col, max(12, min(40, len(name) + 2)))
        for r, row in enumerate(self.rows, start=1):
            for col, cell in enumerate(row):
                if isinstance(cell.raw, bool) or cell.raw is None:
                    continue
                if isinstance(cell.raw, int | float):
                    sheet.write_number(r, col, cell.raw)
                else:
                    sheet.write_string(r, col, str(cell.raw))
        sheet.freeze_panes(1, 1)
        book.close()
        return out.getvalue()


def csv_safe(value: Any) -> Any:
    """A name that a spreadsheet would run as a formula (=, +, -, @) is quoted with a '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _sheet_name(caption: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in caption).strip()
    return cleaned[:31] or "Sheet1"


def csv_value(value: Any, decimal_mark: str) -> Any:
    value = csv_safe(value)
    if isinstance(value, float):
        return format(round(value, 4), "g").replace(".", decimal_mark)
    return value


def channel_name(channel: str) -> str:
    names = {
        "phone": _("Phone"), "chat": _("Chat"), "email": _("Email"), "web": _("Web form"),
        "viber": _("Viber"),
    }
    return names.get(channel, channel)


def no_data() -> str:
    return _("no data yet")


def duration(seconds: int | None) -> str:
    if seconds is None:
        return no_data()
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(m)d min", m=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)02d min", h=hours, m=minutes)
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h", d=days, h=hours)


def number(value: float | int | None) -> Cell:
    if value is None:
        return Cell(no_data(), value)
    locale = get_locale()
    group = _int_group_symbol(str(locale)) if type(value) is int and locale is not None else None
    return Cell(format_decimal(value) if group is None else f"{value:,}".replace(",", group), value)


@functools.cache
def _int_group_symbol(locale: str) -> str | None:
    """The locale's group symbol when Babel writes a whole number as Python's `{:,}` does with
    that symbol (groups of three; every locale we ship). A page has ~1,400 numbers, and Babel took
    ~0.1 ms for each (issue 14: a fifth of the page's CPU); None: Babel formats them all."""
    group = get_group_symbol(locale)
    samples = (0, 7, 1234, -1234, 1234567, -9876543210)
    if all(format_decimal(n) == f"{n:,}".replace(",", group) for n in samples):
        return group
    return None


def change(value: float | int | None, kind: str = "count") -> Cell:
    if value is None:
        return Cell("–", None)
    if kind == "duration":
        sign = "+" if value > 0 else ("−" if value < 0 else "±")
        return Cell(sign + duration(abs(int(value))), value)
    if kind == "percent":
        return Cell(_("%(n)s pp", n=format_decimal(round(value * 100, 1), format="+#,##0.0;−#")), value)
    text = format_decimal(value, format="+#,##0.##;−#,##0.##") if value else "±0"
    return Cell(text, value)


def _week(label: str) -> Cell:
    return Cell(label, label)


def build_tables(report: WeeklyReport) -> dict[str, Table]:
    weeks, changes = report.weeks, report.changes()
    labels = [w.week for w in weeks]
    tables: dict[str, Table] = {}

    t = Table(
        "volume", _("Inquiries per week and channel"),
        [_("Week"), *(channel_name(c) for c in REPORT_CHANNELS), _("Total"),
         _("Change from the week before"), _("Deflected chats"), _("Linked to incidents")],
        csv_columns=["week", *REPORT_CHANNELS, "total", "change", "deflected_chats", "incident_linked"],
    )
    for w, ch in zip(weeks, changes, strict=True):
        t.rows.append([_week(w.week), *(number(w.by_channel.get(c, 0)) for c in REPORT_CHANNELS),
                       number(w.total), change(ch["total"]), number(w.deflected),
                       number(w.incident_linked)])
    tables[t.id] = t

    for key, caption, attr in (
        ("categories", _("Inquiries per category"), "by_category"),
        ("queues", _("Inquiries per queue"), "by_queue"),
    ):
        names: dict[str, int] = {}
        for w in weeks:
            for name, count in getattr(w, attr).items():
                names[name] = names.get(name, 0) + count
        t = Table(key, caption, [_("Category") if key == "categories" else _("Queue"),
                                 *labels, _("Total")],
                  csv_columns=[key[:-1] if key == "queues" else "category", *labels, "total"])
        kind = "category" if key == "categories" else "queue"
        for name, total in sorted(names.items(), key=lambda kv: (-kv[1], kv[0])):
            shown = display_name(kind, name)  # never the internal key, in the chart or the CSV
            t.rows.append([Cell(shown, shown), *(number(getattr(w, attr).get(name, 0)) for w in weeks),
                           number(total)])
        tables[t.id] = t

    t = Table(
        "times", _("First response and resolution times"),
        [_("Week"), _("First response, median"), _("First response, 90th percentile"),
         _("Resolution, median"), _("Resolution, 90th percentile"),
         _("Change in median first response")],
        csv_columns=["week", "first_response_median_seconds", "first_response_p90_seconds",
                     "resolution_median_seconds", "resolution_p90_seconds",
                     "first_response_median_change_seconds"],
    )
    for w, ch in zip(weeks, changes, strict=True):
        fr, res = w.first_response, w.resolution
        t.rows.append([_week(w.week)] + [Cell(duration(v), v) for v in (
            fr.median_seconds, fr.p90_seconds, res.median_seconds, res.p90_seconds)]
            + [change(ch["first_response_median"], "duration")])
    tables[t.id] = t

    t = Table(
        "sla", _("SLA compliance"),
        [_("Week"), _("Targets met"), _("Outcomes decided"), _("Compliance"),
         _("Change from the week before")],
        csv_columns=["week", "met", "decided", "sla_compliance", "change"],
    )
    for w, ch in zip(weeks, changes, strict=True):
        rate = w.sla_compliance
        t.rows.append([_week(w.week), number(w.sla_met), number(w.sla_decided),
                       Cell(no_data() if rate is None else format_percent(rate, "#,##0.0%"), rate),
                       change(ch["sla_compliance"], "percent")])
    tables[t.id] = t

    t = Table("backlog", _("Open tickets at the end of the week"),
              [_("Week"), _("Backlog"), _("Change from the week before")],
              csv_columns=["week", "backlog", "change"])
    for w, ch in zip(weeks, changes, strict=True):
        t.rows.append([_week(w.week), number(w.backlog), change(ch["backlog"])])
    tables[t.id] = t

    t = Table("csat", _("Satisfaction (1 to 5)"),
              [_("Week"), _("Average score"), _("Answers"), _("Change from the week before")],
              csv_columns=["week", "csat", "answers", "change"])
    for w, ch in zip(weeks, changes, strict=True):
        t.rows.append([_week(w.week), number(w.csat), number(w.csat_responses),
                       change(ch["csat"])])
    tables[t.id] = t

    # Shown by callbacks/_figures.html (with the week so far); this table is its export.
    t = Table("callbacks", _("Callbacks"),
              [_("Week"), _("Requested"), _("Reached"), _("No answer"), _("Wrong number")],
              csv_columns=["week", *CALLBACK_FIGURES])
    for w in weeks:
        t.rows.append([_week(w.week), *(number(getattr(w.callbacks, name)) for name in CALLBACK_FIGURES)])
    tables[t.id] = t
    return tables


def agent_table(rows: list[AgentFigures]) -> Table:
    """Per-agent figures for the whole range (helpdesk.metrics.agents)."""
    t = Table("agents", _("Agents: handled tickets, response, resolution and satisfaction"),
              [_("Agent"), _("Resolved tickets"), _("First response, median"), _("First answers"),
               _("Resolution, median"), _("Average score"), _("Answers")])
    for r in rows:
        t.rows.append([
            Cell(r.name, r.name), number(r.handled),
            Cell(duration(r.first_response_median_seconds), r.first_response_median_seconds),
            number(r.first_responses),
            Cell(duration(r.resolution_median_seconds), r.resolution_median_seconds),
            number(r.csat), number(r.csat_answers),
        ])
    return t
