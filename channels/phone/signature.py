"""Twilio webhook signatures: the only proof a request comes from Twilio (no CSRF token, no login).

Twilio signs the URL it called plus the sorted POST parameters with the account's Auth Token
(HMAC-SHA1, or HMAC-SHA256 when the X-Twilio-Webhooks-Signature-Settings header says so). Behind a
proxy the URL Flask sees is not the one Twilio called, so the URL is rebuilt from
HELPDESK_PUBLIC_URL plus the path and query string of the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from flask import Request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)


def public_url_of(req: Request, public_url: str) -> str:
    """The URL Twilio requested: public base + path + the raw query string, byte for byte."""
    url = public_url.rstrip("/") + req.path
    query = req.query_string.decode("latin-1")
    return f"{url}?{query}" if query else url


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature Twilio would send (used by the simulator, the tests and the bench)."""
    return cast(str, RequestValidator(auth_token).compute_signature(url, dict(params)))


def is_valid(req: Request, auth_token: str | None, public_url: str) -> bool:
    signature = req.headers.get(SIGNATURE_HEADER, "")
    if not auth_token or not signature:
        return False
    algorithm = get_signature_algorithm(req.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(auth_token)
    return bool(validator.validate(public_url_of(req, public_url), req.form, signature, algorithm))
