"""How close a ticket is to its SLA targets, for the console ("ok" | "warning" | "breached").

The console (owned by the chat/console package) calls `sla_fields(services, ticket)` when it
builds a ticket dict and highlights rows whose `sla_state` is "warning" or "breached" with the
CSS classes `sla-warning` / `sla-breached`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from helpdesk.sla.policy import CLOSED, BusinessHoursSla, missed_target

if TYPE_CHECKING:
    from helpdesk.models import Ticket
    from helpdesk.services import Services

SlaState = Literal["ok", "warning", "breached"]
CSS_CLASS = {"ok": "", "warning": "sla-warning", "breached": "sla-breached"}


def next_due(ticket: Ticket) -> tuple[str, datetime] | None:
    """The target the ticket is racing now: first response until answered, then resolution."""
    if ticket.status in CLOSED:
        return None
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        return "first_response", ticket.first_response_due_at
    if ticket.resolution_due_at is not None:
        return "resolution", ticket.resolution_due_at
    return None


def sla_state(policy: object, ticket: Ticket, now: datetime) -> SlaState:
    if ticket.sla_breached_at is not None or missed_target(ticket, now) is not None:
        return "breached"
    due = next_due(ticket)
    if due is None:
        return "ok"
    which, due_at = due
    reference = ticket.sla_paused_at or now  # a pending ticket keeps the time it had left
    if isinstance(policy, BusinessHoursSla):
        target = policy.target_for(ticket.priority, ticket.queue)
        total = target.first_response_seconds if which == "first_response" else (
            target.resolution_seconds
        )
        left = policy.calendar.business_seconds_between(reference, due_at)
        return "warning" if left <= total * policy.warning_ratio else "ok"
    # Another policy (plain clock hours): warn in the last quarter of the time since opening.
    total_s = (due_at - ticket.created_at).total_seconds()
    left_s = (due_at - reference).total_seconds()
    return "warning" if left_s <= total_s * 0.25 else "ok"


def sla_fields(services: Services, ticket: Ticket, now: datetime | None = None) -> dict[str, Any]:
    """Fields to merge into a console ticket dict."""
    now = now or services.clock.now()
    state = sla_state(services.sla, ticket, now)
    due = next_due(ticket)
    return {
        "sla_state": state,
        "sla_css": CSS_CLASS[state],
        "sla_target": due[0] if due else None,
        "sla_due_at": due[1].isoformat() if due else None,
        "sla_paused": ticket.sla_paused_at is not None,
    }
