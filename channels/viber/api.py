"""The Viber REST bot API client: send_message, with Viber's status codes mapped to our failures.

Every call is `POST {HELPDESK_VIBER_API_BASE}/<method>` with the `X-Viber-Auth-Token` header and a
JSON body; Viber answers HTTP 200 with `{"status": 0, ...}` on success and another status code
otherwise (https://developers.viber.com/docs/api/rest-bot-api/#error-codes).
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from helpdesk.outbound import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

TIMEOUT = (5, 20)  # connect, read (seconds)
UNSUBSCRIBED_REASON = "The citizen unsubscribed from our Viber account; nothing was sent."
# Problems of this recipient or this message: retrying cannot help.
PERMANENT = {
    1: "invalid URL",
    3: "bad data",
    4: "missing data",
    5: "the user is not registered on Viber",
    6: "the user is not subscribed to our account",
    11: "the user has no device that can receive it",
    13: "the user's Viber does not support this message",
    14: "the user's Viber is too old for this message",
}
# Problems of our account or of Viber itself: an administrator can fix them, so keep it queued.
TEMPORARY = {
    2: "invalid auth token (check HELPDESK_VIBER_AUTH_TOKEN)",
    7: "our Viber account is blocked",
    8: "our Viber account was not found",
    9: "our Viber account is suspended",
    10: "no webhook is set for our account",
    12: "too many requests",
}


class ViberApi:
    def __init__(self, base: str, token: str) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.http = requests.Session()

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One API call; raises TemporaryFailure / PermanentFailure unless status is 0."""
        try:
            response = self.http.post(
                f"{self.base}/{method}",
                json=payload,
                headers={"X-Viber-Auth-Token": self.token},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise TemporaryFailure(f"Viber unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TemporaryFailure(f"Viber HTTP {response.status_code}: try again later")
        try:
            data = response.json()
        except ValueError as exc:
            raise TemporaryFailure(f"Viber HTTP {response.status_code}: not a JSON answer") from exc
        if not isinstance(data, dict):
            raise TemporaryFailure("Viber answered something that is not a JSON object")
        status = data.get("status")
        if status == 0:
            return data
        if status == 6:
            raise PermanentFailure(UNSUBSCRIBED_REASON)
        if status in PERMANENT:
            raise PermanentFailure(f"Viber refused the message (status {status}): {PERMANENT[status]}")
        reason = TEMPORARY.get(status, str(data.get("status_message") or "general error"))  # type: ignore[arg-type]
        raise TemporaryFailure(f"Viber status {status}: {reason}")

    def send_text(self, receiver: str, text: str, sender_name: str, **extra: Any) -> str:
        """Send a text message; returns Viber's message_token (as text) for delivery callbacks."""
        payload = {
            "receiver": receiver,
            "min_api_version": 1,
            "sender": {"name": sender_name},
            "type": "text",
            "text": text,
            **extra,
        }
        data = self.call("send_message", payload)
        token = data.get("message_token")
        return str(token) if token is not None else ""
