"""helpdesk incident open | list | close: the same core operations (and audit) as the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup

from helpdesk.incidents.core import (
    IncidentDraft,
    IncidentNotFound,
    close_incident,
    list_incidents,
    open_incident,
)
from helpdesk.services import Services
from helpdesk.tickets import Actor, InvalidChange


def register(cli: click.Group) -> None:
    cli.add_command(incident)


# helpdesk.cli imports this module to register it: its helpers are imported when a command runs.
def services() -> Services:
    from helpdesk.cli.common import services as current

    return current()


def _actor(email: str | None) -> Actor:
    from helpdesk.cli.merge import _actor as actor_for

    return actor_for(email)


@click.group(cls=AppGroup)
def incident() -> None:
    """Incidents: one outage, one notice, one answer for everyone who asks about it."""


def _when(value: str | None) -> datetime | None:
    """'2026-11-30 09:00' in HELPDESK_TIMEZONE (or with an explicit offset)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date and time like 2026-11-30 09:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(services().settings.timezone))
    return parsed.astimezone(UTC)


@incident.command("open")
@click.option("--title", required=True, help="For staff: what is broken.")
@click.option("--category", default=None, help="A triage category: its new tickets are linked.")
@click.option("--keywords", default="", help="Comma-separated words or phrases that link inquiries.")
@click.option("--notice-sr-latn", required=True, help="The notice in Serbian (Latin).")
@click.option("--notice-sr-cyrl", default="", help="In Cyrillic (default: transliterated).")
@click.option("--notice-en", default="", help="In English (default: the Serbian one).")
@click.option("--starts", default=None, help="Start, e.g. '2026-11-30 09:00' (default: now).")
@click.option("--ends", default=None, help="Expected end, e.g. '2026-11-30 13:00'.")
@click.option("--as", "as_email", default=None, help="The supervisor doing it (for the audit trail).")
def incident_open(
    title: str,
    category: str | None,
    keywords: str,
    notice_sr_latn: str,
    notice_sr_cyrl: str,
    notice_en: str,
    starts: str | None,
    ends: str | None,
    as_email: str | None,
) -> None:
    """Open an incident: the banner shows, matching inquiries get its notice and are linked."""
    draft = IncidentDraft(
        title=title,
        notice_sr_latn=notice_sr_latn,
        notice_sr_cyrl=notice_sr_cyrl,
        notice_en=notice_en,
        category=category,
        keywords=keywords,
        starts_at=_when(starts),
        expected_end_at=_when(ends),
    )
    try:
        incident_id = open_incident(services(), _actor(as_email), draft)
    except InvalidChange as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"opened incident {incident_id}")


@incident.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed incidents too.")
def incident_list(show_all: bool) -> None:
    """Id, state, linked tickets, start, expected end and title."""
    svc = services()
    tz = ZoneInfo(svc.settings.timezone)
    rows = list_incidents(svc, None if show_all else "open")
    if not rows:
        click.echo("no incidents" if show_all else "no open incidents")
        return

    def local(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "-"

    header = ("ID", "STATE", "LINKED", "STARTS", "EXPECTED END", "TITLE")
    table = [header] + [
        (str(r.id), r.status, str(r.linked), local(r.starts_at), local(r.expected_end_at), r.title)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


@incident.command("close")
@click.argument("incident_id", metavar="ID", type=int)
@click.option("--message", default="", help="Sent to every linked citizen on their channel.")
@click.option("--as", "as_email", default=None, help="The supervisor doing it (for the audit trail).")
def incident_close(incident_id: int, message: str, as_email: str | None) -> None:
    """Close an incident (the banner goes); with --message, tell every linked citizen."""
    try:
        sent = close_incident(services(), incident_id, _actor(as_email), message)
    except IncidentNotFound:
        raise click.UsageError(f"no incident {incident_id}") from None
    except InvalidChange as exc:
        raise click.UsageError(str(exc)) from None
    suffix = f"; the message is queued on {sent} ticket(s)" if message.strip() else ""
    click.echo(f"closed incident {incident_id}{suffix}")
