"""Times as people read them: in the helpdesk's zone (HELPDESK_TIMEZONE), with the zone named.

Every page shows a time through the ``local_time`` filter: the text is relative ("5 minutes
ago", in the interface language) and the absolute local time with its zone ("23.11.2026 10:00
CET") rides in ``title`` and in ``data-absolute``, so it shows on hover and, because the element
is focusable, on keyboard focus too (console.css draws it). The ``datetime`` attribute keeps the
exact UTC instant for machines, and console.js refreshes the relative words every minute.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from flask_babel import format_timedelta
from flask_babel import gettext as _
from markupsafe import Markup, escape

ABSOLUTE_FORMAT = "%d.%m.%Y %H:%M"


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # a typo in the setting must not take every page down


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def absolute(value: datetime, tz: ZoneInfo) -> str:
    """'23.11.2026 10:00 CET': the Serbian date order, 24-hour clock and the zone's abbreviation."""
    local = _aware(value).astimezone(tz)
    return f"{local.strftime(ABSOLUTE_FORMAT)} {local.tzname() or tz.key}"


def relative(value: datetime, now: datetime) -> str:
    """'5 minutes ago' / 'in 2 hours', in the interface language (Babel's CLDR data)."""
    delta = _aware(value) - now
    if abs(delta.total_seconds()) < 45:
        return str(_("just now"))  # CLDR would say "in 0 seconds"
    return str(format_timedelta(delta, add_direction=True, threshold=0.9))


def parse(value: datetime | str | None) -> datetime | None:
    """Times arrive as datetimes, or as ISO strings from JSON logs (the local outboxes)."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def time_element(value: datetime | str | None, tz: ZoneInfo, now: datetime, focusable: bool = True) -> Markup:
    value = parse(value)
    if value is None:
        return Markup("")
    exact = _aware(value).astimezone(UTC)
    shown = absolute(exact, tz)
    iso = exact.isoformat().replace("+00:00", "Z")
    shown_attr, words = escape(shown), escape(relative(exact, now))
    tab = ' tabindex="0"' if focusable else ""
    # Each value escaped here: Markup(template).format did the same at six times the cost, and a
    # console page shows a hundred times (bench/README.md, helper consolepg).
    attrs = f'class="when" datetime="{iso}" title="{shown_attr}" data-absolute="{shown_attr}"{tab}'
    return Markup(f"<time {attrs}>{words}</time>")  # noqa: S704 - constant markup, values escaped above


def zone_label(tz: ZoneInfo, now: datetime) -> str:
    """'Europe/Belgrade (CET)': said once per page, beside the times."""
    return f"{tz.key} ({now.astimezone(tz).tzname()})"


def init_app(app: Flask) -> None:
    def _tz() -> ZoneInfo:
        return zone(current_app.extensions["helpdesk"].settings.timezone)

    def _now() -> datetime:
        now: datetime = current_app.extensions["helpdesk"].clock.now()
        return _aware(now)

    @app.template_filter("local_time")
    def local_time(value: datetime | str | None, focusable: bool = True) -> Markup:
        return time_element(value, _tz(), _now(), focusable)

    @app.template_filter("local_absolute")
    def local_absolute(value: datetime | str | None) -> str:
        parsed = parse(value)
        return absolute(parsed, _tz()) if parsed is not None else ""

    @app.context_processor
    def time_zone() -> dict[str, object]:
        return {"time_zone_label": zone_label(_tz(), _now())}
