"""Tickets at known times across five ISO weeks (2026-W42..W46), every figure worked out by hand.

Business hours Mon-Fri 08:00-16:00 Europe/Belgrade, Serbian holidays; SLA targets (business time)
normal 4h/16h, high 2h/8h, urgent 1h/4h, low 8h/40h. What each ticket exercises:

* a daylight-saving change: summer time ends Sun 25 Oct 2026 03:00 -> 02:00, inside W43;
* a week boundary in local time: T3 is created Sun 25 Oct 22:30 UTC (23:30 local, W43) and T4
  at 23:30 UTC (Mon 26 Oct 00:30 local, W44);
* a public holiday: Wed 11 Nov 2026 (Dan primirja) stops the SLA clock for T9 and T10;
* a pending pause: T4 waits for the citizen Mon 26 Oct 10:00 .. Wed 28 Oct 10:00 local and so
  meets a resolution target it would otherwise have missed; T7 is still pending at NOW.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

BELGRADE = ZoneInfo("Europe/Belgrade")


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Belgrade in 2026, as aware UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=BELGRADE).astimezone(UTC)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


NOW = local(11, 16, 12)  # Monday of W47, noon


@dataclass
class Spec:
    key: str
    channel: str
    priority: str
    category: str
    queue: str
    created: datetime
    first_response: datetime | None = None
    resolved: datetime | None = None
    pending: tuple[datetime, datetime | None] | None = None  # (from, until)
    deflected: bool = False
    csat: int | None = None
    merged_into: str | None = None


SPECS = [
    # W42
    Spec("T0", "email", "normal", "tax", "finance", local(10, 14, 9),
         local(10, 14, 10), local(10, 14, 12), csat=4),
    # W43 (summer time until Sunday 03:00)
    Spec("T1", "phone", "normal", "tax", "finance", local(10, 19, 10),
         local(10, 19, 10, 30), local(10, 20, 10), csat=5),
    Spec("T2", "sms", "high", "id", "documents", local(10, 23, 15),
         local(10, 26, 8, 30), local(10, 26, 14)),
    Spec("T3", "chat", "low", "portal", "triage", utc(10, 25, 22, 30),
         None, utc(10, 25, 22, 32), deflected=True),
    # W44 (winter time)
    Spec("T4", "web", "normal", "tax", "finance", utc(10, 25, 23, 30),
         local(10, 26, 9), local(10, 29, 15),
         pending=(local(10, 26, 10), local(10, 28, 10)), csat=3),
    Spec("T5", "email", "urgent", "id", "documents", local(10, 27, 9),
         local(10, 27, 11), local(10, 27, 12), csat=2),
    Spec("T6", "email", "normal", "tax", "finance", local(10, 29, 14)),
    # W45
    Spec("T7", "chat", "normal", "portal", "triage", local(11, 6, 15, 30),
         local(11, 6, 15, 40), pending=(local(11, 6, 15, 45), None)),
    Spec("T8", "phone", "normal", "tax", "finance", local(11, 2, 9), merged_into="T6"),
    # W46 (Wed 11 Nov is a public holiday)
    Spec("T9", "email", "normal", "id", "documents", local(11, 10, 15),
         local(11, 12, 9), local(11, 13, 16, 30), csat=1),
    Spec("T10", "web", "high", "tax", "finance", local(11, 11, 10),
         local(11, 12, 8, 15), local(11, 12, 15), csat=5),
]

# Callbacks (ticket, requested, the calls made): T1's second call is in the next week; T8's ticket
# is merged into T6, and its callback still counts (the call was made).
CALLBACKS = [
    ("T1", local(10, 19, 10, 15), [(local(10, 20, 9), "no_answer"), (local(10, 26, 9), "reached")]),
    ("T8", local(11, 2, 9, 5), [(local(11, 3, 10), "reached")]),
    ("T9", local(11, 11, 10), [(local(11, 12, 9), "wrong_number")]),
]

# Due times worked out by hand (business hours, see module docstring).
EXPECTED_DUE = {
    "T2": (local(10, 26, 9), local(10, 26, 15)),  # Fri 15-16 + Mon (after the DST change)
    "T4": (local(10, 26, 12), local(10, 29, 16)),  # resolution moved by the pending pause
    "T6": (local(10, 30, 10), local(11, 2, 14)),
    "T9": (local(11, 12, 11), local(11, 13, 15)),  # Wed 11 Nov skipped
    "T10": (local(11, 12, 10), local(11, 12, 16)),  # opened on the holiday: clock starts Thu
}

H = 3600
EXPECTED: dict[str, dict[str, Any]] = {
    "2026-W42": {
        "total": 1, "by_channel": {"phone": 0, "chat": 0, "email": 1, "web": 0, "viber": 0},
        "by_category": {"tax": 1}, "by_queue": {"finance": 1},
        "first_response": {"median_seconds": 1 * H, "p90_seconds": 1 * H},
        "resolution": {"median_seconds": 3 * H, "p90_seconds": 3 * H},
        "sla_compliance": 1.0, "backlog": 0, "deflected": 0, "csat": 4.0, "incident_linked": 0,
        "callbacks": {"requested": 0, "reached": 0, "no_answer": 0, "wrong_number": 0},
    },
    "2026-W43": {
        "total": 3, "by_channel": {"phone": 2, "chat": 1, "email": 0, "web": 0, "viber": 0},
        "by_category": {"id": 1, "portal": 1, "tax": 1},
        "by_queue": {"documents": 1, "finance": 1, "triage": 1},
        "first_response": {"median_seconds": 1800, "p90_seconds": 1800},
        "resolution": {"median_seconds": 120, "p90_seconds": 24 * H},
        "sla_compliance": 1.0, "backlog": 1, "deflected": 1, "csat": 5.0, "incident_linked": 0,
        "callbacks": {"requested": 1, "reached": 0, "no_answer": 1, "wrong_number": 0},
    },
    "2026-W44": {
        "total": 3, "by_channel": {"phone": 0, "chat": 0, "email": 2, "web": 1, "viber": 0},
        "by_category": {"tax": 2, "id": 1}, "by_queue": {"finance": 2, "documents": 1},
        # T5 2 h, T4 8.5 h, T2 66.5 h (Fri 15:00 summer time .. Mon 08:30 winter time)
        "first_response": {"median_seconds": 30600, "p90_seconds": 239400},
        # T5 3 h, T2 72 h, T4 86.5 h
        "resolution": {"median_seconds": 72 * H, "p90_seconds": 311400},
        "sla_compliance": 0.6667, "backlog": 1, "deflected": 0, "csat": 2.5, "incident_linked": 0,
        "callbacks": {"requested": 0, "reached": 1, "no_answer": 0, "wrong_number": 0},
    },
    "2026-W45": {
        "total": 1, "by_channel": {"phone": 0, "chat": 1, "email": 0, "web": 0, "viber": 0},
        "by_category": {"portal": 1}, "by_queue": {"triage": 1},
        "first_response": {"median_seconds": 600, "p90_seconds": 600},
        "resolution": {"median_seconds": None, "p90_seconds": None},
        "sla_compliance": 0.0, "backlog": 2, "deflected": 0, "csat": None, "incident_linked": 0,
        "callbacks": {"requested": 1, "reached": 1, "no_answer": 0, "wrong_number": 0},
    },
    "2026-W46": {
        "total": 2, "by_channel": {"phone": 0, "chat": 0, "email": 1, "web": 1, "viber": 0},
        "by_category": {"id": 1, "tax": 1}, "by_queue": {"documents": 1, "finance": 1},
        # T10 22.25 h, T9 42 h
        "first_response": {"median_seconds": 80100, "p90_seconds": 151200},
        # T10 29 h, T9 73.5 h
        "resolution": {"median_seconds": 29 * H, "p90_seconds": 264600},
        "sla_compliance": 0.5, "backlog": 2, "deflected": 0, "csat": 3.0, "incident_linked": 0,
        "callbacks": {"requested": 1, "reached": 0, "no_answer": 0, "wrong_number": 1},
    },
}


def build(session: Any, policy: Any) -> dict[str, Any]:
    """Insert the scenario's tickets; returns them by key. Status changes go through the policy."""
    from helpdesk.models import Contact, Ticket

    contact = Contact(name="Test Citizen", created_at=local(10, 1, 9))
    session.add(contact)
    session.flush()
    tickets: dict[str, Any] = {}
    for n, spec in enumerate(SPECS):
        t = Ticket(
            reference=f"HD-2026-{n + 1:06d}", subject=f"Scenario {spec.key}", status="new",
            priority=spec.priority, channel=spec.channel, category=spec.category,
            queue=spec.queue, contact_id=contact.id, created_at=spec.created,
            updated_at=spec.created, reply_token=f"tok{n:04d}", deflected=spec.deflected,
            csat_score=spec.csat,
        )
        policy.on_open(t, spec.created)
        session.add(t)
        session.flush()
        _status(policy, t, "open", spec.created)
        if spec.first_response:
            t.first_response_at = spec.first_response
        if spec.pending:
            paused, resumed = spec.pending
            _status(policy, t, "pending", paused)
            if resumed:
                _status(policy, t, "open", resumed)
        if spec.resolved:
            t.resolved_at = spec.resolved
            _status(policy, t, "resolved", spec.resolved)
        if spec.merged_into:
            t.merged_into_id = tickets[spec.merged_into].id
            _status(policy, t, "closed", spec.created)
        tickets[spec.key] = t
    session.flush()
    for key, requested, calls in CALLBACKS:
        _callback(session, tickets[key], requested, calls)
    session.flush()
    return tickets


def _callback(session: Any, ticket: Any, requested: datetime, calls: list[tuple[datetime, str]]) -> None:
    from helpdesk.models import Callback, CallbackAttempt

    callback = Callback(
        ticket_id=ticket.id, contact_id=ticket.contact_id, phone="+381641234567", source="phone",
        status=calls[-1][1], window_start=requested, window_end=requested, windows=[],
        attempts=len(calls), requested_at=requested, updated_at=calls[-1][0], done_at=calls[-1][0],
    )
    session.add(callback)
    session.flush()
    session.add_all(CallbackAttempt(callback_id=callback.id, at=at, outcome=outcome) for at, outcome in calls)


def _status(policy: Any, ticket: Any, new: str, at: datetime) -> None:
    old, ticket.status = ticket.status, new
    policy.on_status_change(ticket, old, new, at)
