"""helpdesk ticket merge / contact merge: the same core operations and preview as the console."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk.cli.common import services
from helpdesk.models import Agent, Contact
from helpdesk.tickets import (
    Actor,
    Identity,
    InvalidChange,
    TicketNotFound,
    find_contact,
    merge_contacts,
    merge_tickets,
    preview_contact_merge,
    preview_ticket_merge,
)


def register(cli: click.Group) -> None:
    cli.add_command(ticket)
    cli.add_command(contact)


def _actor(email: str | None) -> Actor:
    """Who the audit trail names: an agent (--as EMAIL), or the command line itself."""
    if not email:
        return Actor.system("cli")
    with services().db.session() as s:
        agent = s.scalar(select(Agent).where(Agent.email == email.strip().lower()))
        if agent is None or not agent.active:
            raise click.UsageError(f"no active agent with the email {email}")
        return Actor.agent(agent.id)


@click.group(cls=AppGroup)
def ticket() -> None:
    """Work on tickets."""


@ticket.command("merge")
@click.argument("source")
@click.argument("target")
@click.option("--as", "as_email", default=None, help="The agent doing it (for the audit trail).")
@click.option("--dry-run", is_flag=True, help="Only show what would move.")
def ticket_merge(source: str, target: str, as_email: str | None, dry_run: bool) -> None:
    """Merge ticket SOURCE into TARGET (its messages move; SOURCE is closed and points to TARGET)."""
    svc = services()
    source, target = source.strip().upper(), target.strip().upper()
    try:
        p = preview_ticket_merge(svc, source, target)
    except TicketNotFound as exc:
        raise click.ClickException(f"no ticket {exc}") from None
    except InvalidChange as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{p.source} -> {p.target}: {p.messages} messages, {p.attachments} files, "
        f"{p.pending_deliveries} pending deliveries move"
        + ("" if p.same_contact else " (the tickets belong to different contacts)")
    )
    if dry_run:
        return
    merge_tickets(svc, p.source, p.target, _actor(as_email))
    click.echo(f"merged {p.source} into {p.target}")


@click.group(cls=AppGroup)
def contact() -> None:
    """Work on contacts."""


def _contact_id(value: str) -> int:
    value = value.strip()
    with services().db.session() as s:
        if value.isdigit():
            found = s.get(Contact, int(value))
        else:
            try:
                found = find_contact(s, Identity("email" if "@" in value else "phone", value))
            except InvalidChange:
                found = None
        if found is None:
            raise click.ClickException(f"no contact {value!r} (give an id, an email or a phone number)")
        return found.id


@contact.command("merge")
@click.argument("source")
@click.argument("target")
@click.option("--as", "as_email", default=None, help="The supervisor doing it (for the audit trail).")
@click.option("--dry-run", is_flag=True, help="Only show what would move.")
def contact_merge(source: str, target: str, as_email: str | None, dry_run: bool) -> None:
    """Merge contact SOURCE into TARGET (each an id, an email or a phone number)."""
    svc = services()
    try:
        p = preview_contact_merge(svc, _contact_id(source), _contact_id(target))
    except InvalidChange as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"contact {p.source_id} -> {p.target_id}: {len(p.identities)} addresses and "
        f"{len(p.tickets)} tickets move ({', '.join(p.tickets) or 'none'})"
    )
    if dry_run:
        return
    merge_contacts(svc, p.source_id, p.target_id, _actor(as_email))
    click.echo(f"merged contact {p.source_id} into {p.target_id}")
