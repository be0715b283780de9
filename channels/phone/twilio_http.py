"""The Twilio REST client, optionally pointed at another base URL (a regional edge, a test double).

twilio's `Client` builds absolute URLs on api.twilio.com (and its product hosts); the only hook to
send them elsewhere is the `http_client`. `ApiBaseHttpClient` rewrites scheme, host and port of
every Twilio URL to HELPDESK_TWILIO_API_BASE and keeps the path, so
https://api.twilio.com/2010-04-01/Accounts/AC../Messages.json becomes
<api base>/2010-04-01/Accounts/AC../Messages.json.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from helpdesk.settings import Settings

# twilio logs request headers and query parameters at INFO; those can hold phone numbers.
_quiet = logging.getLogger("helpdesk.phone.twilio_http")
_quiet.setLevel(logging.WARNING)

TWILIO_HOST_SUFFIX = ".twilio.com"
DEFAULT_TIMEOUT = 10.0


def rebase(url: str, api_base: str | None) -> str:
    """Move a twilio.com URL onto api_base; other URLs (and no api_base) are left alone."""
    if not api_base:
        return url
    parts = urlsplit(url)
    if not (parts.hostname or "").endswith(TWILIO_HOST_SUFFIX):
        return url
    base = urlsplit(api_base.rstrip("/"))
    return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))


class ApiBaseHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends every request to the configured base URL."""

    def __init__(self, api_base: str | None, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self.api_base = api_base

    def request(  # noqa: PLR0913 - the signature is twilio's
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            rebase(url, self.api_base),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def get_bytes(self, url: str, auth: tuple[str, str] | None, max_bytes: int) -> tuple[bytes, str]:
        """GET a media URL (a recording) through the same base and session; (body, content type)."""
        session = self.session
        assert session is not None
        with session.get(rebase(url, self.api_base), auth=auth, timeout=self.timeout, stream=True) as resp:
            resp.raise_for_status()
            body = bytearray()
            for chunk in resp.iter_content(64 * 1024):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise ValueError("recording larger than the attachment limit")
            return bytes(body), resp.headers.get("Content-Type", "application/octet-stream")


def has_credentials(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number)


def make_client(settings: Settings, http_client: ApiBaseHttpClient | None = None) -> Client:
    # environment={...} stops twilio from reading TWILIO_* from os.environ behind our back.
    env: dict[str, Any] = {"HELPDESK": "1"}
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=http_client or ApiBaseHttpClient(settings.twilio_api_base),
        environment=env,
    )
