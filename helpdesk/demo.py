"""Demo data: queues, demo agents and a realistic multi-channel history (synthetic, not real people).

Bulk inserts through SQLAlchemy Core, so that a million tickets for the benchmarks take minutes.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from helpdesk.administration.defaults import DEFAULT_QUEUE_NAMES, default_names
from helpdesk.auth.accounts import hash_password
from helpdesk.demo_texts import (
    CHANNEL_WEIGHTS,
    EN_INQUIRIES,
    FIRST_NAMES,
    LAST_NAMES,
    REPLIES,
    SR_INQUIRIES,
)
from helpdesk.id_sequences import advance_id_sequences
from helpdesk.kb.demo import load_starter_articles
from helpdesk.metrics.changes import TIME_COLUMNS, record_change
from helpdesk.models import (
    Agent,
    Contact,
    ContactIdentity,
    Message,
    Queue,
    Ticket,
    TicketCounter,
)
from helpdesk.name_index import index_names_bulk
from helpdesk.routing import DEFAULT_ROUTES
from helpdesk.services import Services
from helpdesk.ticket_index import index_bulk

QUEUES = {name: latin for name, (latin, _en) in DEFAULT_QUEUE_NAMES.items()}
# The tables generate() fills with ids it chose (to link rows within one multi-row INSERT).
EXPLICIT_ID_TABLES = (Contact.__tablename__, Ticket.__tablename__, Message.__tablename__)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    name: str


DEMO_LOGINS = (
    DemoLogin("agent@helpdesk.localhost", "agent-demo-2026", "agent", "Jelena Petrović"),
    DemoLogin("agent2@helpdesk.localhost", "agent-demo-2026", "agent", "Marko Jovanović"),
    DemoLogin("supervisor@helpdesk.localhost", "supervisor-demo-2026", "supervisor", "Ana Nikolić"),
    DemoLogin("admin@helpdesk.localhost", "admin-demo-2026", "admin", "Admin"),
)


def ensure_base(svc: Services) -> list[DemoLogin]:
    """Queues and demo agents; returns the logins created now (none when they already exist)."""
    created: list[DemoLogin] = []
    with svc.db.transaction() as s:
        queues = {q.name: q for q in s.scalars(select(Queue))}
        for name, title in QUEUES.items():
            if name not in queues:
                names = default_names(DEFAULT_QUEUE_NAMES[name], name)
                queues[name] = Queue(name=name, title=title, names=names)
                s.add(queues[name])
        for login in DEMO_LOGINS:
            if s.scalar(select(Agent.id).where(Agent.email == login.email)) is None:
                s.add(
                    Agent(
                        email=login.email,
                        name=login.name,
                        role=login.role,
                        is_editor=login.role != "agent",
                        password_hash=hash_password(login.password),
                        queues=list(queues.values()),
                    )
                )
                created.append(login)
    load_starter_articles(svc)  # knowledge-base sample articles, once
    return created


def has_tickets(svc: Services) -> bool:
    with svc.db.session() as s:
        return s.scalar(select(Ticket.id).limit(1)) is not None


def repair_sequences(svc: Services) -> None:
    """Advance the id sequences past demo rows (PostgreSQL), for a store loaded before
    generate() did so itself: its first new ticket would fail with a duplicate key."""
    with svc.db.transaction() as s:
        advance_id_sequences(s.connection(), EXPLICIT_ID_TABLES)


def generate(
    svc: Services,
    tickets: int,
    weeks: int,
    seed: int,
    progress: Callable[[int], None] = lambda n: None,
    batch: int = 5000,
) -> int:
    """Insert ``tickets`` synthetic tickets spread over the last ``weeks`` weeks."""
    rng = random.Random(seed)
    now = svc.clock.now()
    start = now - timedelta(weeks=weeks)
    with svc.db.session() as s:
        agent_ids = list(s.scalars(select(Agent.id).where(Agent.active.is_(True))))
        next_ticket = (s.scalar(select(func.max(Ticket.id))) or 0) + 1
        next_contact = (s.scalar(select(func.max(Contact.id))) or 0) + 1
        next_message = (s.scalar(select(func.max(Message.id))) or 0) + 1
        counters = {row.year: row.last for row in s.scalars(select(TicketCounter))}
    done = 0
    while done < tickets:
        size = min(batch, tickets - done)
        rows = _batch(rng, size, start, now, agent_ids, next_ticket, next_contact, next_message, counters)
        with svc.db.transaction() as s:
            for model, values in rows.items():
                if values:
                    # Core on the table: executemany as multi-row INSERTs (insertmanyvalues).
                    s.execute(insert(model.__table__), values)
            index_bulk(s, rows[Ticket], rows[Message])  # the ticket full-text index
            index_names_bulk(s.connection(), rows[Contact])  # and the contact names'
            _log_report_change(s, rows[Ticket])  # Core inserts: the rollups' hook does not see them
            # Per batch: a load interrupted halfway leaves the sequences past what it wrote.
            advance_id_sequences(s.connection(), EXPLICIT_ID_TABLES)
        next_ticket += size
        next_contact += len(rows[Contact])
        next_message += len(rows[Message])
        done += size
        progress(size)
    with svc.db.transaction() as s:
        for year, last in counters.items():
            row = s.get(TicketCounter, year)
            if row is None:
                s.add(TicketCounter(year=year, last=last))
            else:
                row.last = max(row.last, last)
    return done


def _log_report_change(session: Any, tickets: list[dict[str, Any]]) -> None:
    times = [t[c] for t in tickets for c in TIME_COLUMNS if t.get(c) is not None]
    if times:
        record_change(session.connection(), min(times), max(times))


def _batch(
    rng: random.Random,
    size: int,
    start: datetime,
    now: datetime,
    agent_ids: list[int],
    ticket_id: int,
    contact_id: int,
    message_id: int,
    counters: dict[int, int],
) -> dict[Any, list[dict[str, Any]]]:
    from triage.text import fold, to_cyrillic

    contacts: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    tickets: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    span = (now - start).total_seconds()
    channels = list(CHANNEL_WEIGHTS)
    weights = list(CHANNEL_WEIGHTS.values())
    for i in range(size):
        tid, cid = ticket_id + i, contact_id + i
        channel = rng.choices(channels, weights)[0]
        english = rng.random() < 0.15
        script = "latn" if english or rng.random() < 0.6 else "cyrl"
        category, subject, body = rng.choice(EN_INQUIRIES if english else SR_INQUIRIES)
        if script == "cyrl":
            subject, body = to_cyrillic(subject), to_cyrillic(body)
        elif not english and rng.random() < 0.3:  # many citizens type without diacritics
            subject, body = fold(subject).capitalize(), fold(body).capitalize()
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        created = _working_time(rng, start + timedelta(seconds=rng.random() * span))
        if created > now:
            created = now - timedelta(minutes=rng.randint(1, 600))
        age = (now - created).total_seconds()
        kind, value = _identity(rng, channel, cid)
        contacts.append(
            {
                "id": cid,
                "name": name,
                "language": "en" if english else "sr",
                "script": script,
                "created_at": created,
                "sms_opt_out": False,
            }
        )
        identities.append({"contact_id": cid, "kind": kind, "value": value, "created_at": created})
        counters[created.year] = counters.get(created.year, 0) + 1
        first_response = created + timedelta(minutes=rng.lognormvariate(4.0, 1.1))
        answered = first_response < now and rng.random() < 0.97
        resolved = created + timedelta(hours=rng.lognormvariate(2.5, 1.2))
        is_resolved = answered and resolved < now and (age > 3 * 86400 or rng.random() < 0.6)
        status = (
            "closed"
            if is_resolved and age > 14 * 86400
            else "resolved"
            if is_resolved
            else (rng.choice(["open", "pending", "open"]) if answered else "new")
        )
        priority = rng.choices(["low", "normal", "high", "urgent"], [15, 65, 15, 5])[0]
        confident = rng.random() < 0.85
        queue = DEFAULT_ROUTES[category] if confident else "triage"
        seq = 1
        messages.append(
            {
                "id": message_id + len(messages),
                "ticket_id": tid,
                "seq": 1,
                "direction": "inbound",
                "kind": "message",
                "channel": channel,
                "contact_id": cid,
                "agent_id": None,  # every row the same keys: one multi-row INSERT per batch
                "text": body,
                "created_at": created,
                "delivery_state": None,
                "meta": {},
            }
        )
        if answered:
            seq = 2
            messages.append(
                {
                    "id": message_id + len(messages),
                    "ticket_id": tid,
                    "seq": 2,
                    "direction": "outbound",
                    "kind": "reply",
                    "channel": channel,
                    "contact_id": None,
                    "agent_id": rng.choice(agent_ids) if agent_ids else None,
                    "text": REPLIES["en" if english else "sr"],
                    "created_at": first_response,
                    "delivery_state": "sent",
                    "meta": {},
                }
            )
        tickets.append(
            {
                "id": tid,
                "reference": f"HD-{created.year}-{counters[created.year]:06d}",
                "subject": subject[:300],
                "status": status,
                "priority": priority,
                "channel": channel,
                "category": category if confident else "other",
                "queue": queue,
                "assignee_id": rng.choice(agent_ids) if answered and agent_ids else None,
                "contact_id": cid,
                "language": "en" if english else "sr",
                "script": script,
                "triage_confidence": round(
                    rng.uniform(0.6, 0.99) if confident else rng.uniform(0.1, 0.45), 3
                ),
                "complaint": category == "complaints",
                "created_at": created,
                "updated_at": max(created, first_response if answered else created),
                "first_response_at": first_response if answered else None,
                "resolved_at": resolved if is_resolved else None,
                "closed_at": resolved if status == "closed" else None,
                "first_response_due_at": created + timedelta(hours=8),
                "resolution_due_at": created + timedelta(hours=72),
                "sla_paused_seconds": 0,
                "deflected": channel == "chat" and not answered and rng.random() < 0.5,
                "kb_suggested": channel == "chat" and rng.random() < 0.4,
                "last_seq": seq,
                "reply_token": secrets.token_hex(12),
            }
        )
    return {Contact: contacts, ContactIdentity: identities, Ticket: tickets, Message: messages}


def _identity(rng: random.Random, channel: str, contact_id: int) -> tuple[str, str]:
    if channel == "phone":
        return "phone", f"+3816{rng.randint(0, 9)}{contact_id:07d}"[:13]
    if channel == "chat":
        return "chat", f"demo-chat-{contact_id}"
    return "email", f"gradjanin{contact_id}@example.rs"


def _working_time(rng: random.Random, at: datetime) -> datetime:
    """Most inquiries arrive on working days between 7 and 19 local (UTC+1)."""
    if rng.random() < 0.85:
        at = at.replace(hour=rng.randint(6, 17), minute=rng.randint(0, 59))
        if at.weekday() >= 5 and rng.random() < 0.8:
            at -= timedelta(days=at.weekday() - 4)
    return at.astimezone(UTC)
