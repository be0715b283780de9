"""helpdesk token list | revoke ID (``token create`` lives with the other account commands)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.auth.accounts import list_tokens, revoke_token
from helpdesk.cli.common import services
from helpdesk.cli.core import token
from helpdesk.models import Agent


def register(cli: click.Group) -> None:
    token.add_command(token_list)
    token.add_command(token_revoke)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"


@click.command("list")
@with_appcontext
@click.option("--email", default=None, help="Only this agent's tokens.")
@click.option("--all", "show_all", is_flag=True, help="Include revoked tokens.")
def token_list(email: str | None, show_all: bool) -> None:
    """List API tokens: id, owner, created, last used. The secret is never stored, never shown."""
    svc = services()
    agent_id = None
    if email is not None:
        with svc.db.session() as s:
            agent_id = s.scalar(select(Agent.id).where(Agent.email == email.strip().lower()))
        if agent_id is None:
            raise click.UsageError(f"no agent with email {email}")
    rows = list_tokens(svc, agent_id=agent_id, include_revoked=show_all)
    if not rows:
        click.echo("no tokens")
        return
    header = ("ID", "OWNER", "SCOPE", "CREATED", "LAST USED", "EXPIRES", "STATE")
    table = [header] + [
        (
            str(row.id),
            row.owner,
            ",".join(row.scopes),
            _when(row.created_at),
            _when(row.last_used_at),
            _when(row.expires_at),
            "revoked" if row.revoked else "active",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


@click.command("revoke")
@with_appcontext
@click.argument("token_id", metavar="ID", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke an API token by its id (see `helpdesk token list`): its next request gets 401."""
    svc = services()
    outcome = revoke_token(svc, token_id)
    if outcome is None:
        raise click.UsageError(f"no token with id {token_id}")
    click.echo(f"revoked token {token_id}" if outcome else f"token {token_id} was revoked already")
