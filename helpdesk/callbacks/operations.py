"""The callback core operations: request_callback and record_outcome (DESIGN §7).

A request first goes through ``receive_inbound`` like any inquiry (the citizen's words, or our
summary of the request, become a message that opens or joins their ticket); the callback row, the
citizen's accommodations and the audit then commit together in one unit of work. The request's
message id is unique on the callback, so a request delivered twice makes one callback; a second,
different request on a ticket that already waits for a call moves that call to the new windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from helpdesk.callbacks import accommodations
from helpdesk.callbacks.windows import Window, calendar_in_force, full_label, next_window
from helpdesk.events import CONSOLE_ROOM, event, room_for_queue, room_for_ticket
from helpdesk.models import CALLBACK_OUTCOMES, Callback, CallbackAttempt, Ticket
from helpdesk.services import Services
from helpdesk.tickets import (
    Actor,
    Identity,
    InboundMessage,
    InvalidChange,
    ThreadHints,
    get_ticket,
    normalize_phone,
    receive_inbound,
)
from helpdesk.tickets.uow import UnitOfWork, unit_of_work

MAX_WINDOWS = 12
MAX_TEXT = 2000
SUBJECT = {"sr": "Zahtev za povratni poziv", "en": "Call back request"}
# The summary is the citizen's message in their conversation (the chat shows it back to them), so
# it is in their language and script; day names follow (windows.full_label).
SUMMARY = {
    "sr-Latn": "Molim vas da me pozovete na broj {phone}. Termini: {windows}.",
    "sr-Cyrl": "Молим вас да ме позовете на број {phone}. Термини: {windows}.",
    "en": "Please call me back on {phone}. Times: {windows}.",
}


@dataclass(frozen=True)
class CallbackRequest:
    channel: str  # the door it came through: web, chat, phone
    phone: str
    windows: tuple[Window, ...]
    sender: Identity | None = None  # the citizen on that channel; the phone number by default
    name: str | None = None
    language: str | None = None  # sr | en
    script: str | None = None
    text: str = ""  # what the citizen wants to talk about, if they said
    ticket_reference: str | None = None  # join this ticket (the chat's conversation, a form's)
    external_id: str | None = None  # the channel's id of the request (a CallSid) for retries
    accommodations: tuple[str, ...] = ()
    extra_identities: tuple[Identity, ...] = ()
    meta: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CallbackRef:
    id: int
    ticket_reference: str
    status: str
    window: Window
    created: bool  # False: a retry of the same request, or a move of the ticket's waiting call


def _check_windows(svc: Services, windows: tuple[Window, ...]) -> list[Window]:
    if not windows:
        raise InvalidChange("choose at least one time for the call")
    if len(windows) > MAX_WINDOWS:
        raise InvalidChange(f"choose at most {MAX_WINDOWS} times")
    calendar, now = calendar_in_force(svc), svc.clock.now()
    for w in windows:
        # Inside business hours and not over: the doors offer only such windows, this says why
        # a forged or stale one is refused.
        if not (w.start < w.end and w.end > now and calendar.is_open(w.start)):
            raise InvalidChange("that time is outside our working hours or already over")
        if calendar.business_seconds_between(w.start, w.end) < (w.end - w.start).total_seconds():
            raise InvalidChange("that time is outside our working hours or already over")
    return sorted(set(windows))


def request_callback(svc: Services, req: CallbackRequest) -> CallbackRef:
    phone = normalize_phone(req.phone)
    windows = _check_windows(svc, req.windows)
    lang = "en" if req.language == "en" else "sr"
    cyrillic = lang == "sr" and (req.script or "").lower().startswith("cyr")
    said_in = "en" if lang == "en" else ("sr-Cyrl" if cyrillic else "sr-Latn")
    listed = "; ".join(full_label(svc, w, said_in) for w in windows)
    summary = SUMMARY[said_in].format(phone=phone, windows=listed)
    words = req.text.strip()[:MAX_TEXT]
    sender = req.sender or Identity("phone", phone)
    extra = [*req.extra_identities]
    if sender.kind != "phone":
        extra.append(Identity("phone", phone))
    result = receive_inbound(
        svc,
        InboundMessage(
            channel=req.channel,
            sender=sender,
            sender_name=req.name,
            subject=SUBJECT[lang],
            text=f"{summary}\n\n{words}" if words else summary,
            content=words,  # our summary is no evidence for routing; the citizen's words are
            external_id=req.external_id,
            hints=ThreadHints(ticket_reference=req.ticket_reference, continue_open=True),
            language=req.language,
            script=req.script,
            extra_identities=tuple(extra),
            meta={**req.meta, "kind": "callback_request"},
        ),
    )
    with unit_of_work(svc) as uow:
        s = uow.session
        known = s.scalar(select(Callback).where(Callback.message_id == result.message_id))
        if known is not None:
            return _ref(known, result.ticket_reference, created=False)
        ticket = get_ticket(s, result.ticket_reference, for_update=True)
        actor = Actor.contact(ticket.contact_id)
        waiting = s.scalar(
            select(Callback).where(Callback.ticket_id == ticket.id, Callback.status == "pending")
        )
        if waiting is not None:
            before = _state(waiting)
            waiting.phone, waiting.message_id = phone, result.message_id
            _place(waiting, windows)
            waiting.updated_at = uow.now
            s.flush()
            uow.audit(actor, "callback.rescheduled", ticket, before, _state(waiting))
            callback, created = waiting, False
        else:
            callback = Callback(
                ticket_id=ticket.id,
                contact_id=ticket.contact_id,
                message_id=result.message_id,
                phone=phone,
                source=req.channel,
                status="pending",
                attempts=0,
                language=lang,
                requested_at=uow.now,
                updated_at=uow.now,
            )
            _place(callback, windows)
            s.add(callback)
            s.flush()
            uow.audit(actor, "callback.requested", ticket, None, _state(callback))
            created = True
        accommodations.add_in(uow, ticket.contact_id, req.accommodations, actor)
        _announce(uow, ticket, callback)
        return _ref(callback, ticket.reference, created)


def record_outcome(
    svc: Services, callback_id: int, actor: Actor, outcome: str, note: str | None = None
) -> CallbackRef:
    """What came of a call: reached (done), wrong number (done), or no answer (the next window;
    done as "no answer" once HELPDESK_CALLBACK_MAX_ATTEMPTS calls went unanswered)."""
    if outcome not in CALLBACK_OUTCOMES:
        raise InvalidChange(f"outcome must be one of {', '.join(CALLBACK_OUTCOMES)}")
    note = (note or "").strip()[:MAX_TEXT] or None
    with unit_of_work(svc) as uow:
        s = uow.session
        callback = s.get(Callback, callback_id)
        if callback is None:
            raise InvalidChange("no such callback")
        ticket = s.get_one(Ticket, callback.ticket_id)
        if callback.status != "pending":
            raise InvalidChange("this callback is already finished")
        before = _state(callback)
        callback.attempts += 1
        callback.updated_at = uow.now
        s.add(
            CallbackAttempt(
                callback_id=callback.id,
                at=uow.now,
                outcome=outcome,
                agent_id=actor.id if actor.kind == "agent" else None,
                note=note,
            )
        )
        if outcome == "no_answer" and callback.attempts < svc.settings.callback_max_attempts:
            chosen = [Window.from_json(p) for p in callback.windows]
            following = next_window(svc, chosen, callback.window_end, uow.now)
            if following is not None:
                callback.window_start, callback.window_end = following.start, following.end
            else:  # no window on offer (no working day ahead): it leaves the queue
                _finish(callback, "no_answer", uow)
        else:
            _finish(callback, outcome, uow)
        s.flush()
        uow.audit(
            actor, "callback.outcome", ticket, before, {**_state(callback), "outcome": outcome, "note": note}
        )
        _announce(uow, ticket, callback)
        return _ref(callback, ticket.reference, created=False)


def _finish(callback: Callback, status: str, uow: UnitOfWork) -> None:
    callback.status = status
    callback.done_at = uow.now


def _place(callback: Callback, windows: list[Window]) -> None:
    callback.windows = [w.as_json() for w in windows]
    callback.window_start, callback.window_end = windows[0].start, windows[0].end


def _state(callback: Callback) -> dict[str, object]:
    return {
        "callback_id": callback.id,
        "status": callback.status,
        "window_start": callback.window_start.isoformat(),
        "window_end": callback.window_end.isoformat(),
        "attempts": callback.attempts,
    }


def _ref(callback: Callback, reference: str, created: bool) -> CallbackRef:
    window = Window(callback.window_start, callback.window_end)
    return CallbackRef(callback.id, reference, callback.status, window, created)


def _announce(uow: UnitOfWork, ticket: Ticket, callback: Callback) -> None:
    # Supervisors, the ticket's queue and its open views hear of it; no personal data in the event.
    for room in (CONSOLE_ROOM, room_for_queue(ticket.queue), room_for_ticket(ticket.reference)):
        uow.emit(
            event(
                "callback.updated",
                room,
                reference=ticket.reference,
                callback_id=callback.id,
                status=callback.status,
            )
        )
