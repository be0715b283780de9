"""helpdesk privacy ...: personal data kept out of sight."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from helpdesk.cli.common import services
from helpdesk.privacy.backfill import BATCH, seal_existing


def register(cli: click.Group) -> None:
    cli.add_command(privacy)


@click.group(cls=AppGroup)
def privacy() -> None:
    """Personal data: national ID numbers (JMBG) masked and kept encrypted."""


@privacy.command("seal-existing")
@click.option("--batch", default=BATCH, show_default=True, help="Messages per transaction.")
def seal_existing_command(batch: int) -> None:
    """Mask the JMBGs of messages and subjects stored before masking existed (safe to re-run)."""
    done = seal_existing(services(), batch)
    click.echo(
        f"sealed {done.numbers} number(s) in {done.messages} message(s); "
        f"masked {done.subjects} subject(s)"
    )
