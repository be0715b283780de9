"""The mail spool in the store: claims in arrival order per sender, retries, failures.

DESIGN.md §7 "Mail in two steps": SMTP sessions write their raw mail here (``spool_writer``, group
commit); the worker (``spool_worker``) claims the rows and turns them into core calls.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import aliased

from helpdesk.claims import holder_gone
from helpdesk.models import MailSpoolItem
from helpdesk.services import Services

log = logging.getLogger(__name__)
STALE_CLAIM = timedelta(minutes=2)  # a worker on another host that died mid-mail
MAX_TEMPORARY_ATTEMPTS = 20  # database away: retried with backoff for about a day, then kept failed
MAX_CLAIM = 64  # mails a worker takes at once
MAX_CLAIM_BYTES = 32 * 1024 * 1024  # ... and at most this much raw mail (always at least one)
CLAIM_LOCK = 0x6D61696C  # PostgreSQL advisory lock that serializes claims ("mail")


def is_temporary(exc: BaseException) -> bool:
    """Whether a failure may pass by itself (retry, SMTP 451) or never will (fail, SMTP 554)."""
    if isinstance(exc, sa_exc.DataError):  # a value no column takes: the same next time
        return False
    if isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError | sa_exc.DisconnectionError):
        # Unreachable, locked, a schema being migrated, a race on a unique key: all pass.
        return True
    return isinstance(exc, OSError | TimeoutError | MemoryError)


@dataclass(frozen=True)
class Claimed:
    """A spooled mail in this worker's hands."""

    id: int
    sender_key: str
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    attempts: int
    received_at: datetime


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending, due, and nothing older of the same sender is in other hands or waiting for a retry.

    An older mail of the sender that is pending and due is taken too, earlier in the same batch (the
    batch is in id order), so a sender's mail is stored in the order it arrived.
    """
    older = aliased(MailSpoolItem)
    held_back = exists().where(
        older.sender_key == MailSpoolItem.sender_key,
        older.id < MailSpoolItem.id,
        or_(
            older.status == "working",
            and_(older.status == "pending", older.next_attempt_at > now),
        ),
    )
    return and_(MailSpoolItem.status == "pending", MailSpoolItem.next_attempt_at <= now, ~held_back)


def due_ids(svc: Services, limit: int = MAX_CLAIM) -> list[int]:
    """What ``claim_batch`` would take now, in that order (a read: nothing is claimed)."""
    query = select(MailSpoolItem.id).where(_due(svc.clock.now())).order_by(MailSpoolItem.id).limit(limit)
    with svc.db.session() as s:
        return list(s.scalars(query))


def claim_batch(svc: Services, worker: str, limit: int = MAX_CLAIM) -> list[Claimed]:
    """Claim up to ``limit`` due mails (at most ``MAX_CLAIM_BYTES`` of raw mail, at least one) in
    one transaction; returned in arrival order with their raw mail, so nothing is read per mail."""
    if not due_ids(svc, 1):  # a read first: an idle poll must not take SQLite's write lock
        return []
    now = svc.clock.now()
    candidates = (
        select(MailSpoolItem.id, func.length(MailSpoolItem.raw))
        .where(_due(now))
        .order_by(MailSpoolItem.id)
        .limit(limit)
    )
    with svc.db.transaction() as s:
        if svc.db.dialect == "postgresql":
            # Claims one at a time: two workers taking interleaved rows of one sender would break
            # its arrival order (SQLite's BEGIN IMMEDIATE serializes them already).
            s.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
        ids: list[int] = []
        size = 0
        for item_id, length in s.execute(candidates):
            size += int(length or 0)
            if ids and size > MAX_CLAIM_BYTES:
                break
            ids.append(int(item_id))
        if not ids:
            return []
        s.execute(
            update(MailSpoolItem)
            .where(MailSpoolItem.id.in_(ids))
            .values(status="working", claimed_by=worker, claimed_at=now, attempts=MailSpoolItem.attempts + 1)
        )
        rows = s.execute(
            select(
                MailSpoolItem.id,
                MailSpoolItem.sender_key,
                MailSpoolItem.mail_from,
                MailSpoolItem.rcpt_tos,
                MailSpoolItem.raw,
                MailSpoolItem.attempts,
                MailSpoolItem.received_at,
            )
            .where(MailSpoolItem.id.in_(ids))
            .order_by(MailSpoolItem.id)
        ).all()
    return [
        Claimed(
            r.id,
            r.sender_key,
            r.mail_from,
            list((r.rcpt_tos or {}).get("to", [])),
            r.raw,
            r.attempts,
            r.received_at,
        )
        for r in rows
    ]


def claim(svc: Services, item_id: int, worker: str) -> bool:
    """Claim one row (tests, tools); the worker uses ``claim_batch``."""
    with svc.db.transaction() as s:
        result = s.execute(
            update(MailSpoolItem)
            .where(MailSpoolItem.id == item_id, MailSpoolItem.status == "pending")
            .values(
                status="working",
                claimed_by=worker,
                claimed_at=svc.clock.now(),
                attempts=MailSpoolItem.attempts + 1,
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish(svc: Services, *item_ids: int) -> None:
    """The mails are in the core now (or deliberately dropped): their spool rows go, in one statement."""
    if item_ids:
        with svc.db.transaction() as s:
            s.execute(delete(MailSpoolItem).where(MailSpoolItem.id.in_(item_ids)))


def release(svc: Services, item_ids: list[int]) -> None:
    """Claimed but not tried (a stop, or an older mail of the sender must be retried first): pending
    again, the claim's attempt not counted."""
    if item_ids:
        with svc.db.transaction() as s:
            s.execute(
                update(MailSpoolItem)
                .where(MailSpoolItem.id.in_(item_ids), MailSpoolItem.status == "working")
                .values(
                    status="pending", claimed_by=None, claimed_at=None, attempts=MailSpoolItem.attempts - 1
                )
            )


def retry_later(svc: Services, item_id: int, error: str, attempts: int) -> None:
    delay = timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))
    _set(svc, item_id, status="pending", next_attempt_at=svc.clock.now() + delay, last_error=error)


def fail(svc: Services, item_id: int, error: str) -> None:
    """Kept with its raw mail for an administrator, never tried again by itself."""
    _set(svc, item_id, status="failed", last_error=error)


def retry_failed(svc: Services, item_id: int | None = None) -> int:
    """Put failed mail back in the queue (after a fix); returns how many rows."""
    where = [MailSpoolItem.status == "failed"]
    if item_id is not None:
        where.append(MailSpoolItem.id == item_id)
    with svc.db.transaction() as s:
        result = s.execute(
            update(MailSpoolItem).where(*where).values(status="pending", next_attempt_at=svc.clock.now())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _set(svc: Services, item_id: int, **values: Any) -> None:
    with svc.db.transaction() as s:
        s.execute(
            update(MailSpoolItem)
            .where(MailSpoolItem.id == item_id)
            .values(claimed_by=None, claimed_at=None, **values)
        )


def release_abandoned(svc: Services) -> int:
    """Claims of workers that died: on this host when their process is gone, anywhere when stale."""
    now = svc.clock.now()
    with svc.db.session() as s:
        working = s.execute(
            select(MailSpoolItem.id, MailSpoolItem.claimed_by, MailSpoolItem.claimed_at).where(
                MailSpoolItem.status == "working"
            )
        ).all()
    dead = [row.id for row in working if holder_gone(row.claimed_by, row.claimed_at, now, STALE_CLAIM)]
    if not dead:
        return 0
    with svc.db.transaction() as s:
        result = s.execute(
            update(MailSpoolItem)
            .where(and_(MailSpoolItem.id.in_(dead), MailSpoolItem.status == "working"))
            .values(status="pending", claimed_by=None, claimed_at=None)
        )
    log.warning("released %s spooled mail(s) claimed by a worker that is gone", len(dead))
    return int(result.rowcount)  # type: ignore[attr-defined]
