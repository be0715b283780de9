"""helpdesk privacy ...: personal data kept out of sight."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from helpdesk.cli.common import services
from helpdesk.privacy.access_log import search as search_access
from helpdesk.privacy.backfill import BATCH, seal_existing
from helpdesk.privacy.erasure import erase_contact
from helpdesk.privacy.export import ReasonRequired, export_contact, find_contact_id
from helpdesk.privacy.retention import (
    RuleError,
    default_days,
    list_rules,
    remove_rule,
    run_retention,
    set_rule,
)
from helpdesk.privacy.scrub import scrub_free_space
from helpdesk.tickets.types import Actor


def register(cli: click.Group) -> None:
    cli.add_command(privacy)


@click.group(cls=AppGroup)
def privacy() -> None:
    """Personal data: JMBGs kept encrypted, retention, export and erasure, the access log."""


@privacy.command("seal-existing")
@click.option("--batch", default=BATCH, show_default=True, help="Messages per transaction.")
def seal_existing_command(batch: int) -> None:
    """Mask the JMBGs of messages, subjects and stored files kept before masking (safe to re-run)."""
    done = seal_existing(services(), batch)
    click.echo(
        f"sealed {done.numbers} number(s) in {done.messages} message(s); masked {done.subjects} subject(s);"
        f" sealed {done.files} stored file(s)"
    )


@privacy.command("run")
@click.option("--vacuum", is_flag=True, help="SQLite: also rebuild the whole file (older free space).")
def run_command(vacuum: bool) -> None:
    """Apply the retention schedule now: anonymize finished tickets past their period (audited)."""
    svc = services()
    try:
        result = run_retention(svc)
    except RuleError as exc:
        raise click.UsageError(str(exc)) from None
    if vacuum:
        scrub_free_space(svc, vacuum=True)
    click.echo(result.summary())


@privacy.group("schedule")
def schedule() -> None:
    """The retention schedule: days per queue or category (the default: HELPDESK_RETENTION_DAYS)."""


@schedule.command("list")
def schedule_list() -> None:
    """Print the default and every rule."""
    svc = services()
    try:
        default = default_days(svc)
    except (RuleError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"default: {'kept' if default is None else f'{default} days'}")
    for rule in list_rules(svc):
        click.echo(f"{rule.scope:<9} {rule.key:<28} {'kept' if rule.days is None else f'{rule.days} days'}")


@schedule.command("set")
@click.option("--queue", "queue", default=None, help="The queue's name.")
@click.option("--category", "category", default=None, help="The category's key.")
@click.option("--days", type=click.IntRange(min=0), default=None, help="Days after resolution.")
@click.option("--keep", is_flag=True, help="Never anonymize there (overrides the default).")
@click.option("--as", "as_email", default=None, help="Audit the change as this admin (email).")
def schedule_set(
    queue: str | None, category: str | None, days: int | None, keep: bool, as_email: str | None
) -> None:
    """Set the period of one queue or category: --days N or --keep."""
    scope, key = _target(queue, category)
    if (days is None) == (not keep):
        raise click.UsageError("give either --days N or --keep")
    svc = services()
    try:
        set_rule(svc, scope, key, None if keep else days, _actor(as_email))
    except RuleError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"{scope} {key}: {'kept' if keep else f'{days} days'}")


@schedule.command("remove")
@click.option("--queue", "queue", default=None)
@click.option("--category", "category", default=None)
@click.option("--as", "as_email", default=None, help="Audit the change as this admin (email).")
def schedule_remove(queue: str | None, category: str | None, as_email: str | None) -> None:
    """Remove a rule (the default applies there again)."""
    scope, key = _target(queue, category)
    if not remove_rule(services(), scope, key, _actor(as_email)):
        raise click.UsageError(f"no rule for {scope} {key}")
    click.echo(f"{scope} {key}: the default applies")


def _target(queue: str | None, category: str | None) -> tuple[str, str]:
    if (queue is None) == (category is None):
        raise click.UsageError("give exactly one of --queue or --category")
    return ("queue", queue) if queue is not None else ("category", category or "")


def _actor(email: str | None) -> Actor:
    """The admin named by --as, or the command line itself (audited as the system's CLI)."""
    if email is None:
        return Actor.system("cli")
    from sqlalchemy import select

    from helpdesk.models import Agent

    with services().db.session() as s:
        agent_id = s.scalar(select(Agent.id).where(Agent.email == email.strip().lower()))
    if agent_id is None:
        raise click.UsageError(f"no agent {email}")
    return Actor.agent(agent_id)


def _contact(value: str) -> int:
    contact_id = find_contact_id(services(), value)
    if contact_id is None:
        raise click.UsageError(f"no contact matches {value!r}")
    return contact_id


@privacy.command("export")
@click.argument("contact")
@click.option("--reason", required=True, help="The legal reason (the request and its number); audited.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True, help="ZIP file.")
@click.option("--as", "as_email", default=None, help="Audit the export as this supervisor (email).")
def export_command(contact: str, reason: str, out: str, as_email: str | None) -> None:
    """Write one contact's tickets, messages and files as a ZIP with a JSON index.

    CONTACT: a contact number, email, phone or ticket reference."""
    actor = _actor(as_email)
    try:
        made = export_contact(services(), _contact(contact), actor.id, reason)
    except ReasonRequired as exc:
        raise click.UsageError(str(exc)) from None
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
    with os.fdopen(fd, "wb") as handle:
        handle.write(made.data)
    click.echo(f"exported {made.tickets} ticket(s) and {made.files} file(s) to {out}")


@privacy.command("erase")
@click.argument("contact")
@click.option("--reason", required=True, help="The legal reason (the request and its number); audited.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--as", "as_email", default=None, help="Audit the erasure as this supervisor (email).")
def erase_command(contact: str, reason: str, yes: bool, as_email: str | None) -> None:
    """Erase everything of one contact (all its tickets anonymized, the contact emptied).

    CONTACT: a contact number, email, phone or ticket reference."""
    actor = _actor(as_email)
    contact_id = _contact(contact)
    if not yes:
        click.confirm(f"Erase contact {contact_id} and anonymize all its tickets?", abort=True)
    try:
        done = erase_contact(services(), contact_id, actor.id, reason)
    except ReasonRequired as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(done.summary())


@privacy.command("access-log")
@click.option("--agent", default=None, help="The agent's email.")
@click.option("--contact", "contact", default=None, help="Contact number, email, phone or reference.")
@click.option("--reference", default=None, help="A ticket reference.")
@click.option("--limit", default=100, show_default=True)
def access_log_command(agent: str | None, contact: str | None, reference: str | None, limit: int) -> None:
    """Print who viewed which contact's data, newest first."""
    contact_id = _contact(contact) if contact else None
    rows = search_access(
        services(), agent_email=agent, contact_id=contact_id, reference=reference, limit=limit
    )
    if not rows:  # silence read as "the command did nothing"
        click.echo("no views recorded" + (" for these filters" if agent or contact or reference else ""))
    for row in rows:
        click.echo(
            f"{row.at.isoformat(timespec='seconds')}  {row.agent or '-':<24} {row.action:<8} "
            f"contact {row.contact_id or '-'}  {row.reference or ''}"
        )
