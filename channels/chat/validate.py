"""Checks on what a citizen's browser sends: bad input gets a clear error, never a crash."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _

from channels.chat.store import LANGUAGES

MAX_CHARS = 4000
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f]")  # below space, except tab (09) and newline (0a)


class BadRequest(ValueError):
    """Refused input; ``code`` is for programs, the message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def as_dict(data: object) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("bad_request", _("The request must be an object."))
    return data


def optional_text(data: dict[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("bad_" + key, _("%(field)s must be text.", field=key))
    value = " ".join(value.split())
    if len(value) > limit:
        raise BadRequest("bad_" + key, _("%(field)s is too long.", field=key))
    return value or None


def email(data: dict[str, Any]) -> str | None:
    value = optional_text(data, "email", 320)
    if value is not None and not EMAIL_RE.match(value):
        raise BadRequest("bad_email", _("That does not look like an email address."))
    return value


def language(data: dict[str, Any]) -> str | None:
    value = data.get("language")
    return value if isinstance(value, str) and value in LANGUAGES else None


def message_text(data: dict[str, Any]) -> str:
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("empty", _("Write a message first."))
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_CHARS:
        raise BadRequest("too_long", _("The message is too long (at most %(n)d characters).", n=MAX_CHARS))
    # Control characters other than newlines and tabs have no place in a chat message.
    return CONTROL_RE.sub("", text)


def suggest_text(data: dict[str, Any]) -> str:
    """What the citizen is typing, for knowledge-base suggestions (the search reads 1,000 chars)."""
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("empty", _("Write a question first."))
    if len(text) > MAX_CHARS:
        raise BadRequest("too_long", _("The message is too long (at most %(n)d characters).", n=MAX_CHARS))
    return " ".join(text.split())[:1000]


def client_id(data: dict[str, Any]) -> str:
    value = data.get("client_id")
    if not isinstance(value, str) or not CLIENT_ID_RE.match(value):
        raise BadRequest(
            "bad_client_id", _("Every message needs a client_id (8-64 letters, digits, - or _).")
        )
    return value


def seq_after(data: dict[str, Any]) -> int:
    value = data.get("after", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest("bad_after", _("'after' must be a sequence number (0 or more)."))
    return value
