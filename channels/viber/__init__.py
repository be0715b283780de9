"""The Viber channel: the Viber REST bot API as a fourth way to reach the helpdesk (issue 17).

`init_app(app, services)` registers the signed webhook (/channels/viber/webhook) and the sender
for the "viber" channel, and `helpdesk viber set-webhook`. Without HELPDESK_VIBER_AUTH_TOKEN the
channel stays off (nothing is registered), so the default channel list
works on a machine without a Viber account.
"""

from __future__ import annotations

import logging

from flask import Flask

from channels import dispatcher
from channels.viber import webhooks
from channels.viber.api import ViberApi
from channels.viber.channel import EXTENSION_KEY, ViberChannel
from channels.viber.cli import viber_cli
from channels.viber.sender import ViberSender
from channels.viber.subscribers import UserStore
from helpdesk.extensions import csrf
from helpdesk.services import Services

log = logging.getLogger(__name__)
CHANNEL = "viber"


def init_app(app: Flask, services: Services) -> None:
    settings = services.settings
    if not settings.viber_auth_token:
        log.info("Viber channel off: HELPDESK_VIBER_AUTH_TOKEN is not set")
        return
    viber = ViberChannel(
        services=services,
        api=ViberApi(settings.viber_api_base, settings.viber_auth_token),
        users=UserStore(settings.data_dir),
    )
    app.extensions[EXTENSION_KEY] = viber
    services.senders[CHANNEL] = ViberSender(viber.api, viber.users, viber.sender_name)
    services.inbound_channels.add(CHANNEL)
    csrf.exempt(webhooks.bp)  # Viber signs its callbacks instead (signature.py)
    app.register_blueprint(webhooks.bp)
    dispatcher.init_app(app, services)
    app.cli.add_command(viber_cli)
