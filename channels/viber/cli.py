"""`helpdesk viber set-webhook`: point the Viber bot at this helpdesk (Viber's set_webhook call).

Viber checks the URL at once with a signed `webhook` callback, so the app must already be
reachable at HELPDESK_PUBLIC_URL (HTTPS with a valid certificate, Viber's rule).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from channels.viber.channel import current_viber
from helpdesk.outbound import PermanentFailure, TemporaryFailure

EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]


@click.group("viber")
def viber_cli() -> None:
    """The Viber bot account."""


@viber_cli.command("set-webhook")
@with_appcontext
def set_webhook() -> None:
    """Register <public URL>/channels/viber/webhook as the bot's webhook."""
    viber = current_viber()
    url = f"{viber.settings.public_url}/channels/viber/webhook"
    if not url.startswith("https://"):
        click.echo(f"warning: Viber only calls HTTPS URLs; {url} will be refused", err=True)
    payload = {"url": url, "event_types": EVENT_TYPES, "send_name": True, "send_photo": False}
    try:
        viber.api.call("set_webhook", payload)
    except (PermanentFailure, TemporaryFailure) as exc:
        raise click.ClickException(f"Viber did not set the webhook: {exc}") from exc
    click.echo(f"Viber webhook set to {url}")
