"""The business-hours SLA policy: targets per priority (and optionally per queue).

Targets are measured in business time (see `helpdesk.business_hours`): a normal ticket that opens
on Friday at 15:00 with a 4-hour first-response target is due on Monday at 11:00.

Pending stops the clock. When a ticket goes pending the policy stamps `sla_paused_at`; when it
leaves pending, the business time that had been left on each unmet target is granted again from
that moment, and the business seconds spent waiting are added to `sla_paused_seconds`. A target
that had already passed when the ticket went pending stays breached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import object_session

from helpdesk.business_hours import BusinessCalendar

if TYPE_CHECKING:
    from helpdesk.models import Ticket

DEFAULT_TARGETS = "urgent=1h/4h,high=2h/8h,normal=4h/16h,low=8h/40h"
DEFAULT_WARNING_RATIO = 0.25
CLOSED = ("resolved", "closed")
_ENTRY = re.compile(
    r"^(?:(?P<queue>[\w.-]+):)?(?P<priority>\w+)=(?P<first>[\dhm]+)/(?P<res>[\dhm]+)$"
)
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?$")


class SlaConfigError(ValueError):
    """An SLA setting that cannot be understood."""


@dataclass(frozen=True)
class Target:
    first_response_seconds: int
    resolution_seconds: int


def _duration(text: str) -> int:
    match = _DURATION.match(text)
    if not text or not match:
        raise SlaConfigError(f"bad duration {text!r} (use e.g. 4h, 30m, 1h30m)")
    hours, minutes = (int(x or 0) for x in match.groups())
    if hours * 60 + minutes == 0:
        raise SlaConfigError(f"duration {text!r} must be more than zero")
    return hours * 3600 + minutes * 60


def parse_targets(spec: str) -> dict[tuple[str | None, str], Target]:
    """'urgent=1h/4h,high=2h/8h,tax:normal=2h/8h' -> {(queue or None, priority): Target}."""
    targets: dict[tuple[str | None, str], Target] = {}
    for entry in spec.replace(";", ",").split(","):
        entry = entry.strip().replace(" ", "")
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if not match:
            raise SlaConfigError(f"bad SLA target {entry!r} (use [queue:]priority=4h/16h)")
        first, res = _duration(match["first"]), _duration(match["res"])
        if res < first:
            raise SlaConfigError(f"{entry!r}: resolution target is shorter than first response")
        targets[(match["queue"], match["priority"])] = Target(first, res)
    return targets


class BusinessHoursSla:
    """`SlaPolicy` with due times in business hours, configurable per priority and queue."""

    def __init__(
        self,
        calendar: BusinessCalendar,
        targets: Mapping[tuple[str | None, str], Target] | None = None,
        warning_ratio: float = DEFAULT_WARNING_RATIO,
    ) -> None:
        self.calendar = calendar
        self.targets = dict(targets if targets is not None else parse_targets(DEFAULT_TARGETS))
        if not 0 <= warning_ratio < 1:
            raise SlaConfigError("the SLA warning ratio must be between 0 and 1")
        self.warning_ratio = warning_ratio

    @classmethod
    def from_settings(cls, settings: object) -> BusinessHoursSla:
        spec = getattr(settings, "sla_targets", "") or DEFAULT_TARGETS
        targets = parse_targets(DEFAULT_TARGETS)
        targets.update(parse_targets(spec))  # a setting overrides only what it names
        ratio = getattr(settings, "sla_warning_ratio", DEFAULT_WARNING_RATIO)
        return cls(BusinessCalendar.from_settings(settings), targets, float(ratio))

    def target_for(self, priority: str, queue: str | None) -> Target:
        found = self.targets.get((queue, priority)) or self.targets.get((None, priority))
        return found or self.targets[(None, "normal")]

    # -- SlaPolicy --

    def on_open(self, ticket: Ticket, now: datetime) -> None:
        target = self.target_for(ticket.priority, ticket.queue)
        ticket.first_response_due_at = self.calendar.add_business_seconds(
            now, target.first_response_seconds
        )
        ticket.resolution_due_at = self.calendar.add_business_seconds(
            now, target.resolution_seconds
        )
        ticket.sla_paused_at = None
        ticket.sla_paused_seconds = 0
        ticket.sla_breached_at = None

    def on_status_change(self, ticket: Ticket, old: str, new: str, now: datetime) -> None:
        if new == "pending" and ticket.sla_paused_at is None:
            ticket.sla_paused_at = now
            return
        if old == "pending" and new != "pending" and ticket.sla_paused_at is not None:
            self._resume(ticket, now)
        if new in CLOSED and old not in CLOSED:
            self._record_late_resolution(ticket, now)
        elif old in CLOSED and new not in CLOSED and ticket.resolution_due_at is not None:
            # A reopened ticket gets a fresh resolution target from now; its history stays.
            target = self.target_for(ticket.priority, ticket.queue)
            ticket.resolution_due_at = self.calendar.add_business_seconds(
                now, target.resolution_seconds
            )

    def _resume(self, ticket: Ticket, now: datetime) -> None:
        paused_at = ticket.sla_paused_at
        assert paused_at is not None
        cal = self.calendar
        ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + int(
            cal.business_seconds_between(paused_at, now)
        )
        if ticket.first_response_at is None and ticket.first_response_due_at is not None:
            if ticket.first_response_due_at > paused_at:
                left = cal.business_seconds_between(paused_at, ticket.first_response_due_at)
                ticket.first_response_due_at = cal.add_business_seconds(now, left)
        if ticket.resolution_due_at is not None and ticket.resolution_due_at > paused_at:
            left = cal.business_seconds_between(paused_at, ticket.resolution_due_at)
            ticket.resolution_due_at = cal.add_business_seconds(now, left)
        ticket.sla_paused_at = None

    def _record_late_resolution(self, ticket: Ticket, now: datetime) -> None:
        """Resolved after a target passed and before the checker noticed: record the breach."""
        if ticket.sla_breached_at is not None:
            return
        missed = missed_target(ticket, now)
        if missed is None:
            return
        which, due = missed
        ticket.sla_breached_at = due
        session = object_session(ticket)
        if session is not None:
            session.add(breach_audit(ticket, which, due, now))


def missed_target(ticket: Ticket, now: datetime) -> tuple[str, datetime] | None:
    """The first target this ticket missed by `now` (clock stopped while pending), if any.

    A ticket resolved without any reply counts as answered at its resolution.
    """
    reference = ticket.sla_paused_at or now
    done = ticket.resolved_at or ticket.closed_at
    missed: list[tuple[datetime, str]] = []
    checks = (
        ("first_response", ticket.first_response_due_at, ticket.first_response_at or done),
        ("resolution", ticket.resolution_due_at, done),
    )
    for which, due, met_at in checks:
        if due is None:
            continue
        if (met_at is None and due <= reference) or (met_at is not None and met_at > due):
            missed.append((due, which))
    if not missed:
        return None
    due, which = min(missed)
    return which, due


def breach_audit(ticket: Ticket, which: str, due: datetime, now: datetime) -> object:
    from helpdesk.models import AuditEvent

    return AuditEvent(
        at=now,
        actor_kind="system",
        actor_name="sla",
        action="sla.breached",
        ticket_id=ticket.id,
        after={"target": which, "due_at": due.isoformat(), "priority": ticket.priority},
    )
