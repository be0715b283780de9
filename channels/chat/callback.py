"""Chat events `callback_windows` and `callback`: the citizen asks, from the chat, to be phoned.

The request joins the visitor's chat conversation (the agent sees it in the same timeline) and
puts the number on the contact, through the core's request_callback.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from channels.chat import store, validate
from channels.chat.validate import BadRequest
from helpdesk.callbacks import CallbackRequest, request_callback
from helpdesk.callbacks.accommodations import KINDS, clean
from helpdesk.callbacks.windows import full_label, group_by_day, offered_windows, window_for_key
from helpdesk.services import Services
from helpdesk.tickets import Identity, InvalidChange, normalize_phone

MAX_WINDOWS = 12


def windows_for(svc: Services, data: dict[str, Any]) -> dict[str, Any]:
    lang = validate.language(data) or "sr-Latn"
    days = group_by_day(svc, offered_windows(svc), lang)
    return {
        "ok": True,
        "days": [
            {"day": day, "windows": [{"key": w.key, "hours": hours} for w, hours in windows]}
            for day, windows in days
        ],
        "accommodations": [{"key": k, "label": str(v)} for k, v in KINDS.items()],
    }


def request_from_chat(svc: Services, hashed: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        phone = normalize_phone(str(data.get("phone") or "")[:40])
    except InvalidChange:
        raise BadRequest(
            "bad_phone", _("Enter a phone number like 064 123 4567 or +381 64 123 4567.")
        ) from None
    keys = data.get("windows")
    if not isinstance(keys, list) or not keys:
        raise BadRequest("no_window", _("Choose at least one time when we may call you."))
    windows = [window_for_key(svc, str(k)) for k in keys[:MAX_WINDOWS]]
    if any(w is None for w in windows):
        raise BadRequest("stale_window", _("A time you chose is no longer available. Choose another time."))
    needs = data.get("accommodations")
    lang = validate.language(data)
    language, script = store.LANGUAGES.get(lang or "", (None, None))
    latest = store.current_ticket(svc, hashed)
    ref = request_callback(
        svc,
        CallbackRequest(
            channel="chat",
            phone=phone,
            windows=tuple(w for w in windows if w is not None),
            sender=Identity("chat", hashed),
            name=validate.optional_text(data, "name", 200),
            language=language,
            script=script,
            ticket_reference=latest.reference if latest else None,
            accommodations=tuple(clean(needs)) if isinstance(needs, list) else (),
        ),
    )
    return {
        "ok": True,
        "reference": ref.ticket_reference,
        "when": full_label(svc, ref.window, lang or "sr-Latn"),
    }
