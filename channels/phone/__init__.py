"""The phone channel: Twilio voice menu, voicemail, agent calls and SMS (issue 5).

`init_app(app, services)` registers the signed webhook blueprint (/channels/twilio/...), the
console blueprint (/console/phone/...), the SMS senders for the "sms" and "phone" channels, the
worker that stores what the webhooks accepted, and the call-back panel on tickets.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from channels import dispatcher
from channels.phone import callback_menu, console, webhooks  # noqa: F401 - callback_menu adds views
from channels.phone.channel import EXTENSION_KEY, PhoneChannel
from channels.phone.cli import phone_cli
from channels.phone.sender import SmsSender
from channels.phone.twilio_http import ApiBaseHttpClient
from channels.phone.worker import PhoneWorker
from helpdesk.extensions import csrf
from helpdesk.navigation import add_nav_link
from helpdesk.services import Services, TicketPanel

CHANNELS = ("sms", "phone")  # a phone ticket is answered by SMS


def init_app(app: Flask, services: Services) -> None:
    settings = services.settings
    phone = PhoneChannel(
        app=app,
        services=services,
        worker=PhoneWorker(app),
        http=ApiBaseHttpClient(settings.twilio_api_base),
    )
    app.extensions[EXTENSION_KEY] = phone

    def status_callback(message_id: int | None) -> str:
        if message_id is None:
            return phone.urls("/sms/status")
        return phone.urls("/sms/status", m=message_id)

    client_factory = phone.client if phone.has_credentials else None
    for channel in CHANNELS:
        services.senders[channel] = SmsSender(channel, services, client_factory, status_callback)
        services.inbound_channels.add(channel)
    services.background.append(phone.worker)
    # Only on phone and SMS tickets: a chat or email ticket has no number to call (issue 13).
    panel = TicketPanel("phone/call_back_panel.html", console.panel_context, channels=("phone", "sms"))
    services.ticket_panels.append(panel)

    csrf.exempt(webhooks.bp)  # Twilio signs its requests instead (see signature.py)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(console.bp)
    dispatcher.init_app(app, services)  # delivery of what the senders above send
    app.cli.add_command(phone_cli)
    if not phone.has_credentials:
        add_nav_link(app, "phone_console.outbox", _l("SMS outbox"))
    if settings.demo:
        add_nav_link(app, "phone_console.simulator", _l("Phone simulator"))
