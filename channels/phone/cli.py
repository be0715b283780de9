"""`helpdesk phone ...`: what to paste into Twilio's console, and the local SMS outbox."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from channels.phone import outbox_log
from channels.phone.channel import EXTENSION_KEY, PhoneChannel


@click.group("phone", cls=AppGroup)
def phone_cli() -> None:
    """The Twilio phone channel."""


def _phone() -> PhoneChannel:
    phone: PhoneChannel = current_app.extensions[EXTENSION_KEY]
    return phone


@phone_cli.command("urls")
def urls() -> None:
    """The webhook URLs for the Twilio number, and how the channel is configured."""
    phone = _phone()
    settings = phone.settings
    click.echo(f"Voice URL (HTTP POST):     {phone.urls('/voice')}")
    click.echo(f"Messaging URL (HTTP POST): {phone.urls('/sms')}")
    signed = "the Twilio Auth Token" if settings.twilio_auth_token else "a local token (simulator)"
    click.echo(f"Webhooks are checked with: {signed}")
    if phone.has_credentials:
        click.echo(f"Outbound SMS and calls:    Twilio REST {settings.twilio_api_base or '(default)'}")
    else:
        path = outbox_log.outbox_path(settings.data_dir)
        click.echo(f"Outbound SMS and calls:    local outbox {path} (no Twilio credentials)")
    click.echo(f"Agent phone:               {settings.agent_phone or '(not set: option 3 off)'}")


@phone_cli.command("outbox")
@click.option("--limit", default=20, show_default=True, help="How many SMS, newest first.")
def outbox(limit: int) -> None:
    """The SMS written to the local outbox (when no Twilio account is configured)."""
    records = outbox_log.read_latest(_phone().settings.data_dir, "sms", limit)
    if not records:
        click.echo("The local SMS outbox is empty.")
    for record in records:
        click.echo(f"{record.get('at', '')[:19]}  {record.get('to', '')}  {record.get('ticket', '')}")
        click.echo(f"    {record.get('body', '')}")
