"""helpdesk demo-data: queues, demo logins and a synthetic multi-channel history."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from helpdesk.cli.common import services
from helpdesk.demo import DEMO_LOGINS, ensure_base, generate, has_tickets, repair_sequences


def register(cli: click.Group) -> None:
    cli.add_command(demo_data)


@click.command("demo-data")
@with_appcontext
@click.option("--tickets", default=600, show_default=True, help="How many tickets to create.")
@click.option("--weeks", default=12, show_default=True, help="Spread over this many past weeks.")
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already has tickets.")
def demo_data(tickets: int, weeks: int, seed: int, if_empty: bool) -> None:
    """Load demo data (synthetic; no real person's data)."""
    svc = services()
    ensure_base(svc)
    if if_empty and has_tickets(svc):
        repair_sequences(svc)  # a store an older demo-data loaded has them still at 1
        click.echo("demo data already loaded")
    else:
        with click.progressbar(length=tickets, label="tickets", show_pos=True) as bar:
            generate(svc, tickets, weeks, seed, progress=bar.update)
    click.echo("Demo logins:")
    for login in DEMO_LOGINS:
        click.echo(f"  {login.role:<10} {login.email:<32} {login.password}")
