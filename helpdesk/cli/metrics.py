"""helpdesk metrics weekly|warm / helpdesk sla check: the supervisor figures from the command line."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext

from helpdesk.cli.common import services
from helpdesk.metrics import REPORT_CHANNELS, Filters, WeekError, report_csv, resolve_weeks
from helpdesk.metrics import weekly_report as build_report
from helpdesk.metrics.warm import WEEKS
from helpdesk.metrics.warm import warm as warm_weeks


def register(cli: click.Group) -> None:
    cli.add_command(metrics)
    cli.add_command(sla)


@click.group()
def metrics() -> None:
    """Service figures computed in the database."""


@metrics.command("weekly")
@with_appcontext
@click.option("--from", "first", default=None, help="First ISO week, e.g. 2026-W40.")
@click.option("--to", "last", default=None, help="Last ISO week (default: the current week).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--channel", type=click.Choice(REPORT_CHANNELS), default=None)
@click.option("--queue", default=None)
@click.option("--category", default=None)
def weekly(
    first: str | None,
    last: str | None,
    fmt: str,
    channel: str | None,
    queue: str | None,
    category: str | None,
) -> None:
    """Print the weekly figures (the same as GET /api/v1/metrics/weekly)."""
    svc = services()
    tz = ZoneInfo(svc.settings.timezone)
    now = svc.clock.now()
    try:
        weeks = resolve_weeks(first, last, now, tz)
    except WeekError as exc:
        raise click.UsageError(str(exc)) from None
    report = build_report(svc.db, weeks, now, Filters(channel, queue, category), tz)
    if fmt == "csv":
        click.echo(report_csv(report), nl=False)
    else:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))


@metrics.command("warm")
@with_appcontext
@click.option("--weeks", default=WEEKS, show_default=True, help="Closed weeks to store, newest first.")
def warm(weeks: int) -> None:
    """Store the closed weeks' figures now (as the worker does at start): run after `db upgrade`,
    so the first supervisor visit does not recompute them. Safe while the service runs."""
    svc = services()
    result = warm_weeks(svc.db, svc.clock.now(), ZoneInfo(svc.settings.timezone), weeks=weeks)
    click.echo(
        f"stored {result.weeks} weeks and {result.agent_weeks} per-agent weeks "
        f"in {result.seconds:.1f} s (the others were up to date)"
    )


@click.group()
def sla() -> None:
    """Service-level agreement tools."""


@sla.command("check")
@with_appcontext
def check() -> None:
    """Run one pass of the SLA watch: record breaches, warn supervisors of tickets close to one."""
    from helpdesk.sla import SlaChecker

    svc = services()
    checker = next((s for s in svc.background if isinstance(s, SlaChecker)), None) or SlaChecker(svc)
    result = checker.check()
    click.echo(f"breached: {len(result.breached)}  warned: {len(result.warned)}")
