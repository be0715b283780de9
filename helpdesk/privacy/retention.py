"""The retention schedule and its run: finished tickets lose their personal data after N days.

A schedule is the default from ``HELPDESK_RETENTION_DAYS`` (empty: kept) plus rules per queue or
category kept in ``retention_rules`` (admins change them on /admin/retention or with
``helpdesk privacy schedule``; every change is audited). When several apply to a ticket, the
shortest period wins: a category of sensitive requests can be cut shorter than its queue.

A ticket is due when it is resolved or closed and its end (closed, else resolved) is older than
its period; open work is never touched. ``run_retention`` anonymizes the due tickets in batches
(one transaction each, so a long catch-up never holds one big lock), releases the files nobody
needs any more, scrubs SQLite's free space and audits what it did. ``RetentionJob`` runs it daily
in the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select

from helpdesk.background import BackgroundWorker
from helpdesk.models import AnonymizedTicket, AuditEvent, RetentionRule, Ticket
from helpdesk.privacy.scrub import scrub_free_space
from helpdesk.services import Services
from helpdesk.tickets.anonymize import Scrubbed, anonymize_tickets, release_files
from helpdesk.tickets.types import Actor

log = logging.getLogger(__name__)
SCOPES = ("queue", "category")
FINISHED = ("resolved", "closed")
BATCH = 200
RUN_ACTION = "privacy.retention_run"


class RuleError(ValueError):
    """A rule the schedule cannot hold (unknown scope, negative days, empty key)."""


@dataclass(frozen=True)
class Schedule:
    default: int | None
    queues: dict[str, int | None] = field(default_factory=dict)
    categories: dict[str, int | None] = field(default_factory=dict)

    def days_for(self, queue: str, category: str | None) -> int | None:
        """The period for a ticket: the shortest of the rules that name its queue or category,
        else the default; None: kept."""
        named = [
            self.queues[queue] if queue in self.queues else ...,
            self.categories[category] if category is not None and category in self.categories else ...,
        ]
        matched = [d for d in named if d is not ...]
        if not matched:
            return self.default
        periods = [d for d in matched if isinstance(d, int)]
        return min(periods) if periods else None

    def shortest(self) -> int | None:
        every = [self.default, *self.queues.values(), *self.categories.values()]
        periods = [d for d in every if d is not None]
        return min(periods) if periods else None


def default_days(svc: Services) -> int | None:
    raw = (svc.settings.retention_days or "").strip()
    if not raw:
        return None
    days = int(raw)
    if days < 0:
        raise RuleError("HELPDESK_RETENTION_DAYS must be 0 or more days")
    return days


def load_schedule(svc: Services) -> Schedule:
    queues: dict[str, int | None] = {}
    categories: dict[str, int | None] = {}
    with svc.db.session() as s:
        for rule in s.scalars(select(RetentionRule)):
            (queues if rule.scope == "queue" else categories)[rule.key] = rule.days
    return Schedule(default_days(svc), queues, categories)


@dataclass(frozen=True)
class Rule:
    scope: str
    key: str
    days: int | None
    updated_at: datetime


def list_rules(svc: Services) -> list[Rule]:
    with svc.db.session() as s:
        return [
            Rule(r.scope, r.key, r.days, r.updated_at)
            for r in s.scalars(select(RetentionRule).order_by(RetentionRule.scope, RetentionRule.key))
        ]


def set_rule(svc: Services, scope: str, key: str, days: int | None, actor: Actor) -> None:
    """Create or change the rule for one queue or category (days None: kept there)."""
    key = key.strip()
    if scope not in SCOPES:
        raise RuleError(f"scope must be one of {', '.join(SCOPES)}")
    if not key or len(key) > 64:
        raise RuleError("a rule names one queue or category")
    if days is not None and days < 0:
        raise RuleError("days must be 0 or more")
    with svc.db.transaction() as s:
        rule = s.scalar(select(RetentionRule).where(RetentionRule.scope == scope, RetentionRule.key == key))
        before: dict[str, object] | None = None if rule is None else {"days": rule.days}
        if rule is None:
            rule = RetentionRule(scope=scope, key=key)
            s.add(rule)
        rule.days = days
        rule.updated_at = svc.clock.now()
        rule.updated_by = actor.id if actor.kind == "agent" else None
        after = {"scope": scope, "key": key, "days": days}
        s.add(_audit(svc, actor, "privacy.retention_rule_set", before, after))


def remove_rule(svc: Services, scope: str, key: str, actor: Actor) -> bool:
    with svc.db.transaction() as s:
        rule = s.scalar(select(RetentionRule).where(RetentionRule.scope == scope, RetentionRule.key == key))
        if rule is None:
            return False
        before = {"scope": scope, "key": key, "days": rule.days}
        s.add(_audit(svc, actor, "privacy.retention_rule_removed", before, None))
        s.delete(rule)
    return True


Change = Mapping[str, object] | None


def _audit(svc: Services, actor: Actor, action: str, before: Change, after: Change) -> AuditEvent:
    return AuditEvent(
        at=svc.clock.now(),
        actor_kind=actor.kind,
        actor_agent_id=actor.id if actor.kind == "agent" else None,
        actor_name=actor.name,
        action=action,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
    )


@dataclass
class RetentionResult:
    scrubbed: Scrubbed = field(default_factory=Scrubbed)
    files_removed: int = 0
    schedule: Schedule | None = None

    def summary(self) -> str:
        s = self.scrubbed
        return (
            f"anonymized {s.tickets} ticket(s), {s.messages} message(s), {s.attachments} attachment(s); "
            f"forgot {s.contacts} contact(s); removed {self.files_removed} file(s)"
        )


def due_ticket_ids(svc: Services, schedule: Schedule, now: datetime) -> list[int]:
    """The finished, not yet anonymized tickets whose period has passed, oldest first."""
    shortest = schedule.shortest()
    if shortest is None:
        return []
    ended = func.coalesce(Ticket.closed_at, Ticket.resolved_at)
    with svc.db.session() as s:
        rows = s.execute(
            select(Ticket.id, Ticket.queue, Ticket.category, ended)
            .where(
                Ticket.status.in_(FINISHED),
                ended.is_not(None),
                ended <= now - timedelta(days=shortest),
                ~exists().where(AnonymizedTicket.ticket_id == Ticket.id),
            )
            .order_by(ended)
        ).all()
    due = []
    for ticket_id, queue, category, end in rows:
        days = schedule.days_for(queue, category)
        if days is not None and end <= now - timedelta(days=days):
            due.append(ticket_id)
    return due


def run_retention(svc: Services, actor: Actor | None = None, batch: int = BATCH) -> RetentionResult:
    actor = actor or Actor.system("privacy")
    now = svc.clock.now()
    schedule = load_schedule(svc)
    result = RetentionResult(schedule=schedule)
    due = due_ticket_ids(svc, schedule, now)
    for start in range(0, len(due), batch):
        with svc.db.transaction() as s:
            result.scrubbed.add(anonymize_tickets(s, due[start : start + batch], now, "retention"))
    if result.scrubbed.digests:
        with svc.db.session() as s:
            result.files_removed = release_files(s, svc.attachments, result.scrubbed.digests)
    if result.scrubbed.tickets:
        scrub_free_space(svc)
    if schedule.shortest() is None and actor.kind == "system" and actor.name == "privacy":
        return result  # no schedule: the daily job has nothing to record (an explicit run does)
    with svc.db.transaction() as s:
        sc = result.scrubbed
        s.add(
            _audit(
                svc,
                actor,
                RUN_ACTION,
                None,
                {
                    "tickets": sc.tickets,
                    "messages": sc.messages,
                    "attachments": sc.attachments,
                    "contacts": sc.contacts,
                    "files": result.files_removed,
                },
            )
        )
    return result


def last_run(svc: Services) -> datetime | None:
    with svc.db.session() as s:
        return s.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.action == RUN_ACTION))


class RetentionJob(BackgroundWorker):
    """A `BackgroundService` (the worker's) running the schedule once a day.

    The last run is read from the audit trail, so restarting the worker (or running several)
    does not run it more often than the interval."""

    name = "privacy-retention"
    join_timeout = 30.0
    failure_message = "retention run failed"  # keep the schedule: one failed run must not end it

    def __init__(self, svc: Services, interval: timedelta = timedelta(days=1), poll: float = 600.0) -> None:
        super().__init__(poll)
        self.svc = svc
        self.interval = interval
        self.poll = poll

    def due(self) -> bool:
        last = last_run(self.svc)
        return last is None or last <= self.svc.clock.now() - self.interval

    def run_if_due(self) -> RetentionResult | None:
        if not self.due():
            return None
        result = run_retention(self.svc)
        log.info("retention run: %s", result.summary())  # counts only, never personal data
        return result

    def run_once(self) -> RetentionResult | None:
        return self.run_if_due()
