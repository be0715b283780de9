"""`helpdesk callback list`: the callback queue from the command line, earliest window first."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk.callbacks.queue import state_of
from helpdesk.callbacks.windows import calendar_in_force
from helpdesk.models import Callback, Ticket
from helpdesk.services import Services


@click.group("callback", cls=AppGroup)
def callback_cli() -> None:
    """Callbacks citizens asked for."""


@callback_cli.command("list")
@click.option("--all", "everything", is_flag=True, help="Finished callbacks too, not only waiting ones.")
@click.option("--limit", default=50, show_default=True)
def list_callbacks(everything: bool, limit: int) -> None:
    """Waiting callbacks by their window (local time): due and overdue ones are marked."""
    svc: Services = current_app.extensions["helpdesk"]
    tz, now = calendar_in_force(svc).tz, svc.clock.now()
    query = select(Callback, Ticket.reference).join(Ticket, Ticket.id == Callback.ticket_id)
    if not everything:
        query = query.where(Callback.status == "pending")
    lines = []
    with svc.db.session() as s:  # read while the session is open (rows expire when it closes)
        for c, reference in s.execute(query.order_by(Callback.window_start, Callback.id).limit(limit)):
            start, end = c.window_start.astimezone(tz), c.window_end.astimezone(tz)
            state = state_of(c.window_start, c.window_end, now) if c.status == "pending" else c.status
            lines.append(
                f"{c.id:>6}  {start:%Y-%m-%d %H:%M}-{end:%H:%M}  {state:<9}  {reference}  "
                f"{c.phone}  {c.source}  attempts {c.attempts}"
            )
    if not lines:
        click.echo("No callbacks waiting." if not everything else "No callbacks.")
    for line in lines:
        click.echo(line)
