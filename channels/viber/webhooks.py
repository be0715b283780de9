"""POST /channels/viber/webhook: every Viber callback, signed with the account's auth token.

The signature is checked on the raw body before anything is parsed or stored (403 otherwise); the
view is CSRF-exempt because Viber cannot send a CSRF token, the signature is the proof instead.
Answers are JSON: 200 for what was taken (or deliberately ignored), 400 for a body that is not a
Viber callback, 503 when it could not be stored (Viber tries again).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from channels.viber import media, texts
from channels.viber.channel import ViberChannel, current_viber
from channels.viber.identity import identity, valid_user_id
from channels.viber.signature import HEADER, is_valid
from helpdesk.auth.roles import public
from helpdesk.models import Message
from helpdesk.outbound import PermanentFailure, TemporaryFailure
from helpdesk.tickets import AttachmentIn, InboundMessage, ThreadHints, receive_inbound, record_delivery

log = logging.getLogger(__name__)
bp = Blueprint("viber", __name__, url_prefix="/channels/viber")

MAX_BODY = 64 * 1024  # a callback is a few hundred bytes; media come by URL
MEDIA_KINDS = ("picture", "video", "file")
PLACEHOLDER = {"picture": "(slika)", "video": "(video)", "file": "(datoteka)", "sticker": "(nalepnica)"}
# Viber's delivery callbacks -> our delivery state; the rank keeps a late "delivered" from
# overwriting "seen".
DELIVERY = {"delivered": "delivered", "seen": "seen", "failed": "failed"}
RANK = {None: -1, "queued": 0, "sent": 1, "delivered": 2, "seen": 3, "failed": 3}


class BadCallback(ValueError):
    pass


def _json(code: int, **body: Any) -> Response:
    response = jsonify(body)
    response.status_code = code
    return response


@bp.post("/webhook")
@public
def webhook() -> Response:
    viber = current_viber()
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _json(413, error="request too large for a Viber callback")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        return _json(413, error="request too large for a Viber callback")
    if not is_valid(viber.settings.viber_auth_token, raw, request.headers.get(HEADER)):
        return _json(403, error=f"invalid or missing {HEADER}")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _json(400, error="the body is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        return _json(400, error="not a Viber callback: no event")
    handler = HANDLERS.get(data["event"])
    if handler is None:
        return _json(200, status="ignored")
    try:
        return handler(viber, data)
    except BadCallback as exc:
        return _json(400, error=str(exc))
    except Exception:  # noqa: BLE001 - refused, so Viber retries instead of a silent loss
        log.exception("viber %s callback not stored", data["event"])
        return _json(503, error="could not store this callback, try again")


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _user_id(value: object) -> str:
    if not valid_user_id(value):
        raise BadCallback("missing or malformed user id")
    assert isinstance(value, str)
    return value


def _token(data: dict[str, Any]) -> str:
    token = data.get("message_token")
    if isinstance(token, bool) or not isinstance(token, int | str) or not str(token).strip():
        raise BadCallback("missing message_token")
    return str(token).strip()[:100]


def _setup(viber: ViberChannel, data: dict[str, Any]) -> Response:
    """Viber checks the URL when the webhook is set: a plain 200 says it is ours."""
    return _json(200, status="ok")


def _conversation_started(viber: ViberChannel, data: dict[str, Any]) -> Response:
    """The welcome message goes in the response body (Viber sends it once, no receiver)."""
    user = _obj(data, "user")
    _user_id(user.get("id"))
    return _json(200, **texts.welcome(viber.sender_name))


def _subscribed(viber: ViberChannel, data: dict[str, Any]) -> Response:
    user = _obj(data, "user")
    viber.users.set_subscribed(_user_id(user.get("id")), True)
    return _json(200, status="ok")


def _unsubscribed(viber: ViberChannel, data: dict[str, Any]) -> Response:
    """Remembered, so no reply is sent any more; the ticket shows why (sender.py)."""
    viber.users.set_subscribed(_user_id(data.get("user_id")), False)
    return _json(200, status="ok")


def _message(viber: ViberChannel, data: dict[str, Any]) -> Response:
    sender = _obj(data, "sender")
    user_id = _user_id(sender.get("id"))
    token = _token(data)
    message = _obj(data, "message")
    if not isinstance(message.get("type"), str):
        raise BadCallback("missing message")
    kind = message["type"]
    text = _str(message, "text")
    if viber.users.is_unsubscribed(user_id):
        viber.users.set_subscribed(user_id, True)  # writing to us subscribes again (Viber's rule)

    choice = texts.language_choice(text) if kind == "text" else None
    if choice is not None:
        viber.users.set_language(user_id, choice)
        _confirm_language(viber, user_id, choice)
        return _json(200, status="ok")

    content, attachments = _content(viber, kind, message, text)
    if not content.strip() and not attachments:
        return _json(200, status="ignored")
    chosen = viber.users.language(user_id)
    device_language = _str(sender, "language")
    language, script = chosen or (("en", "latn") if device_language.startswith("en") else (None, None))
    name = _str(sender, "name")
    result = receive_inbound(
        viber.services,
        InboundMessage(
            channel="viber",
            sender=identity(user_id),
            sender_name=(name or "").strip()[:200] or None,
            subject="",
            text=content.strip() or PLACEHOLDER.get(kind, "(Viber)"),
            content=content.strip(),  # a placeholder is ours, not the citizen's
            attachments=tuple(attachments),
            external_id=token,
            hints=ThreadHints(continue_open=True),
            language=language,
            script=script,
            wants_acknowledgement=True,
            meta={"kind": "viber", "type": kind},
        ),
    )
    return _json(200, status="ok", ticket=result.ticket_reference, duplicate=result.duplicate)


def _content(
    viber: ViberChannel, kind: str, message: dict[str, Any], text: str
) -> tuple[str, list[AttachmentIn]]:
    """The text to store and any fetched media, for each Viber message type."""
    if kind == "text":
        return text, []
    if kind in MEDIA_KINDS:
        url, name = _str(message, "media"), _str(message, "file_name") or None
        item = media.fetch(url, kind, name, viber.settings.max_attachment_bytes) if url else None
        if item is not None:
            return text, [item]
        return "\n".join(p for p in (text, url) if p), []  # kept as a link rather than lost
    if kind == "url":
        return str(message.get("media") or ""), []
    if kind == "location":
        where = _obj(message, "location")
        lat, lon = where.get("lat"), where.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}", []
        return "", []
    if kind == "contact":
        card = _obj(message, "contact")
        return " ".join(str(card.get(k) or "") for k in ("name", "phone_number")).strip(), []
    return text, []  # a sticker or anything newer: its text if any, else the placeholder


def _confirm_language(viber: ViberChannel, user_id: str, choice: str) -> None:
    language, script = ("en", "latn") if choice == "en" else ("sr", "cyrl" if choice == "sr-Cyrl" else "latn")
    try:
        viber.api.send_text(user_id, texts.localized("chosen", language, script), viber.sender_name)
    except (PermanentFailure, TemporaryFailure) as exc:  # the choice is kept; only the thanks is lost
        log.warning("viber language confirmation not sent: %s", exc)


def _delivery(viber: ViberChannel, data: dict[str, Any]) -> Response:
    state = DELIVERY[data["event"]]
    token = _token(data)
    with viber.services.db.session() as session:
        message = session.scalar(
            select(Message).where(Message.channel == "viber", Message.external_id == token)
        )
        if message is None or message.direction != "outbound":
            return _json(200, status="ignored")  # not ours (the welcome, a confirmation)
        if RANK[state] <= RANK.get(message.delivery_state, -1) and state != "failed":
            return _json(200, status="ignored")
        target = message.id
    error = None
    if state == "failed":
        desc = _str(data, "desc")
        error = f"Viber could not deliver it: {desc[:200]}" if desc else "Viber could not deliver it"
    record_delivery(viber.services, target, state, error=error)
    return _json(200, status="ok")


HANDLERS = {
    "webhook": _setup,
    "conversation_started": _conversation_started,
    "subscribed": _subscribed,
    "unsubscribed": _unsubscribed,
    "message": _message,
    "delivered": _delivery,
    "seen": _delivery,
    "failed": _delivery,
}
