"""Menu option 4: the caller chooses a window and we call them back on the number they called from.

Views on the signed webhook blueprint (webhooks.bp); the storing is a job on the phone worker
like every other, calling the core's request_callback with the CallSid as the request's id, so a
Twilio retry of the same key press makes one callback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Response, abort, request

from channels.phone import twiml
from channels.phone.channel import PhoneChannel, current_phone
from channels.phone.numbers import to_e164
from channels.phone.prompts import spoken_window, text
from channels.phone.webhooks import _lang, _param, _twiml, _unavailable, bp
from helpdesk.auth.roles import public
from helpdesk.callbacks import CallbackRef, CallbackRequest, request_callback
from helpdesk.callbacks.windows import Window, calendar_in_force, offered_windows, window_for_key

log = logging.getLogger(__name__)


def _spoken(phone: PhoneChannel, lang: str, window: Window) -> str:
    calendar = calendar_in_force(phone.services)
    today = calendar.local_date(phone.services.clock.now())
    return spoken_window(
        lang, window.start.astimezone(calendar.tz), window.end.astimezone(calendar.tz), today
    )


PER_DAY = 2


def spread(phone: PhoneChannel, windows: list[Window]) -> list[Window]:
    """At most two windows of a day, so a caller who cannot take today's calls hears tomorrow's
    ("today from 12 to 14, today from 14 to 16, tomorrow from 8 to 10")."""
    calendar = calendar_in_force(phone.services)
    chosen: list[Window] = []
    per_day: dict[object, int] = {}
    for window in windows:
        day = calendar.local_date(window.start)
        if per_day.get(day, 0) < PER_DAY:
            per_day[day] = per_day.get(day, 0) + 1
            chosen.append(window)
        if len(chosen) == twiml.CALLBACK_CHOICES:
            break
    return chosen


def offer(lang: str, notice: str | None = None) -> Response:
    """The next windows on offer, one key each (called for option 4 of the main menu)."""
    phone = current_phone()
    if to_e164(request.form.get("From")) is None:  # no number to call back
        return _twiml(twiml.main_menu(phone.urls, lang, notice=text(lang, "anonymous")))
    windows = spread(phone, offered_windows(phone.services))
    offers = [(w.key, _spoken(phone, lang, w)) for w in windows]
    return _twiml(twiml.callback_offer(phone.urls, lang, offers, notice))


def store_callback(phone: PhoneChannel, params: Mapping[str, str], lang: str, window: Window) -> CallbackRef:
    caller = to_e164(params.get("From"))
    if caller is None:
        raise ValueError("caller number withheld or unusable")
    return request_callback(
        phone.services,
        CallbackRequest(
            channel="phone",
            phone=caller,
            windows=(window,),
            language=lang,
            script="latn",
            external_id=f"{params['CallSid']}:callback",
            meta={"call_sid": params.get("CallSid"), "lang": lang},
        ),
    )


@bp.post("/voice/callback")
@public
def voice_callback() -> Response:
    _param("CallSid")
    phone, lang = current_phone(), _lang()
    keys = request.args.get("w", "").split(",")[: twiml.CALLBACK_CHOICES]
    digits = request.form.get("Digits", "")
    key = keys[int(digits) - 1] if digits.isdigit() and 1 <= int(digits) <= len(keys) else None
    if key is None:
        return offer(lang, notice=text(lang, "not_understood"))
    window = window_for_key(phone.services, key)
    if window is None:  # the call went on past that window's offer
        return offer(lang, notice=text(lang, "callback_stale"))
    params = request.form.to_dict()
    try:
        done, ref = phone.worker.run(lambda: store_callback(phone, params, lang, window))
    except Exception:  # noqa: BLE001 - logged by the worker; Twilio reports the 503
        abort(_unavailable())
    number = ref.ticket_reference.rsplit("-", 1)[1] if done and ref else None
    return _twiml(twiml.callback_booked(lang, _spoken(phone, lang, window), number))
