"""Seal the JMBGs of messages stored before masking existed (``helpdesk privacy seal-existing``).

The migration that added ``sensitive_values`` leaves old rows alone (a schema change should not
rewrite every message under a lock); this job does it afterwards in small transactions, and may
be stopped and run again: a sealed text holds no valid number any more, so it is skipped. Stored
files (attachments, raw mail) holding a number are sealed too.
Changing the text through the ORM also rewrites the message's search-index row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.models import AuditEvent, Message, SensitiveValue, Ticket
from helpdesk.privacy import jmbg
from helpdesk.privacy.vault import KIND_JMBG, cipher, seal
from helpdesk.services import Services

BATCH = 500
M = TypeVar("M", Message, Ticket)


@dataclass
class Sealed:
    messages: int = 0
    subjects: int = 0
    numbers: int = 0
    files: int = 0  # stored files (attachments, raw mail) sealed


def seal_existing(svc: Services, batch: int = BATCH) -> Sealed:
    done = Sealed()
    for s, messages in _batches(svc, Message, batch):
        for message in messages:
            rows = seal(svc.settings, message)
            if rows:
                s.add_all(rows)
                done.messages += 1
                done.numbers += len(rows)
    for s, tickets in _batches(svc, Ticket, batch):
        for ticket in tickets:
            done.subjects += _seal_subject(svc, s, ticket)
    # Originals kept in clear before the store sealed them (helpdesk.attachments).
    done.files = svc.attachments.seal_existing()
    if done.messages or done.subjects or done.files:
        with svc.db.transaction() as s:
            s.add(
                AuditEvent(
                    at=svc.clock.now(),
                    actor_kind="system",
                    actor_name="privacy",
                    action="privacy.sealed_existing",
                    after={"messages": done.messages, "subjects": done.subjects, "files": done.files},
                )
            )
    return done


def _seal_subject(svc: Services, s: Session, ticket: Ticket) -> int:
    """A subject's numbers are kept with the ticket's first message (where a new ticket's are),
    each once: one the message's text held too is already there."""
    numbers = jmbg.find(ticket.subject)
    if not numbers:
        return 0
    ticket.subject = jmbg.mask(ticket.subject)
    first_id = s.scalar(select(func.min(Message.id)).where(Message.ticket_id == ticket.id))
    if first_id is None:  # a ticket without messages keeps only the masked subject
        return 1
    f = cipher(svc.settings)
    kept = {
        f.decrypt(c.encode()).decode()
        for c in s.scalars(select(SensitiveValue.ciphertext).where(SensitiveValue.message_id == first_id))
    }
    s.add_all(
        SensitiveValue(message_id=first_id, kind=KIND_JMBG, ciphertext=f.encrypt(n.encode()).decode())
        for n in numbers
        if n not in kept
    )
    return 1


def _batches(svc: Services, model: type[M], batch: int) -> Iterator[tuple[Session, Sequence[M]]]:
    """Every row of ``model`` in id order, ``batch`` at a time, each batch in its own transaction."""
    last_id = 0
    while True:
        with svc.db.transaction() as s:
            rows = s.scalars(select(model).where(model.id > last_id).order_by(model.id).limit(batch)).all()
            if not rows:
                return
            yield s, rows
            last_id = rows[-1].id
