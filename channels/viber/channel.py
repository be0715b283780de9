"""The Viber channel's state for one app: settings, the API client, what we know of users."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from channels.viber.api import ViberApi
from channels.viber.subscribers import UserStore
from helpdesk.services import Services
from helpdesk.settings import Settings

EXTENSION_KEY = "viber_channel"
MAX_SENDER_NAME = 28  # Viber's limit for sender.name


@dataclass
class ViberChannel:
    services: Services
    api: ViberApi
    users: UserStore

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def sender_name(self) -> str:
        return (self.settings.viber_sender_name or "Helpdesk")[:MAX_SENDER_NAME]


def current_viber() -> ViberChannel:
    viber: ViberChannel = current_app.extensions[EXTENSION_KEY]
    return viber
