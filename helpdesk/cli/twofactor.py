"""helpdesk user reset-2fa EMAIL: an administrator turns off an agent's two-factor sign-in
(a lost phone and lost recovery codes); the agent sets it up again at the next login."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from helpdesk.administration import AdminError, agent_id_for_email
from helpdesk.auth import twofactor
from helpdesk.cli.common import services
from helpdesk.cli.core import user
from helpdesk.tickets import Actor


def register(cli: click.Group) -> None:
    user.add_command(user_reset_2fa)


@click.command("reset-2fa")
@with_appcontext
@click.argument("email")
def user_reset_2fa(email: str) -> None:
    """Turn off an agent's two-factor sign-in and delete their recovery codes (audited)."""
    svc = services()
    try:
        agent_id = agent_id_for_email(svc, email)
    except AdminError as exc:
        raise click.UsageError(str(exc)) from exc
    changed = twofactor.disable(svc, agent_id, Actor.system("cli"), action="2fa.reset")
    click.echo(f"two-factor reset for {email.strip().lower()}" if changed else "two-factor was not set up")
