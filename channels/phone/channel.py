"""The phone channel's state for one app: settings, URLs, the worker, the Twilio HTTP client."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

from flask import Flask, current_app
from twilio.rest import Client

from channels.phone.twilio_http import ApiBaseHttpClient, has_credentials, make_client
from channels.phone.twiml import Urls
from channels.phone.worker import PhoneWorker
from helpdesk.business_hours import BusinessCalendar
from helpdesk.services import Services
from helpdesk.settings import Settings

EXTENSION_KEY = "phone_channel"


@dataclass
class PhoneChannel:
    app: Flask
    services: Services
    worker: PhoneWorker
    http: ApiBaseHttpClient
    urls: Urls = field(init=False)
    calendar: BusinessCalendar = field(init=False)

    def __post_init__(self) -> None:
        self.urls = Urls(self.settings.public_url)
        self.calendar = BusinessCalendar.from_settings(self.settings)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def webhook_token(self) -> str:
        """The secret webhooks are signed with: the Auth Token, or a local one without Twilio.

        Without an account the channel still only takes signed requests (from the simulator),
        with a token derived from the app's secret key.
        """
        if self.settings.twilio_auth_token:
            return self.settings.twilio_auth_token
        key = self.settings.secret_key.encode()
        return hmac.new(key, b"helpdesk-local-twilio", hashlib.sha256).hexdigest()[:32]

    @property
    def has_credentials(self) -> bool:
        return has_credentials(self.settings)

    def client(self) -> Client:
        return make_client(self.settings, self.http)

    def is_open(self) -> bool:
        # the SLA policy's calendar follows the hours an administrator stored; ours is the fallback
        calendar = getattr(self.services.sla, "calendar", None) or self.calendar
        return bool(calendar.is_open(self.services.clock.now()))

    def hours_text(self, lang: str) -> str:
        """'08:00-16:00' from the business hours, spoken as '08:00 do 16:00' / '08:00 to 16:00'."""
        spec = str(getattr(self.services.sla, "business_hours", "") or self.settings.business_hours)
        match = re.search(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})", spec)
        if not match:
            return spec
        joiner = " do " if lang == "sr" else " to "
        return match.group(1) + joiner + match.group(2)


def current_phone() -> PhoneChannel:
    phone: PhoneChannel = current_app.extensions[EXTENSION_KEY]
    return phone
