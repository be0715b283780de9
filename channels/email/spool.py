"""The mail spool in the store: group-committed writes, claims in arrival order per sender.

DESIGN.md §7 "Mail in two steps": the SMTP session ends when its raw mail is committed here (so
the 250 means "spooled", as an MTA's queue file does); the worker (``spool_worker``) turns rows
into core calls. Many concurrent sessions share one transaction and one fsync: ``SpoolWriter``'s
committer thread writes whatever is queued when it gets to it, then answers each session.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import aliased

from channels.email.write_gate import WriteGate
from helpdesk.claims import holder_gone
from helpdesk.models import MailSpoolItem
from helpdesk.services import Services

log = logging.getLogger(__name__)
STALE_CLAIM = timedelta(minutes=2)  # a worker on another host that died mid-mail
MAX_TEMPORARY_ATTEMPTS = 20  # database away: retried with backoff for about a day, then kept failed
MAX_BATCH = 256  # sessions written in one group commit
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
class Spooled:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes


class _Waiting:
    """A session's mail and the event-loop future its DATA command awaits."""

    __slots__ = ("future", "loop", "mail")

    def __init__(self, mail: Spooled, future: asyncio.Future[int], loop: asyncio.AbstractEventLoop) -> None:
        self.mail, self.future, self.loop = mail, future, loop


class SpoolWriter:
    """Group commit: sessions queue their mail, one thread writes each queue-full in one transaction.

    The sessions wait on plain event-loop futures, and a batch is answered with ONE call into the
    loop (not a thread-safe future per mail, each waking the loop on its own): at a few hundred
    mails a second those hand-overs were a good part of the server's CPU. ``on_written`` is called
    once per committed batch (it wakes the spool worker of this process)."""

    def __init__(
        self, svc: Services, gate: WriteGate | None = None, on_written: Callable[[], None] | None = None
    ) -> None:
        self.svc = svc
        self.gate = gate or WriteGate(enabled=False)
        self.on_written = on_written
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mail-spool-writer", daemon=True)
            self._thread.start()

    def submit(self, mail: Spooled) -> asyncio.Future[int]:
        """From the event loop: the spool row id once committed. Cancel the future to withdraw a
        mail; one already being written is written all the same (the sender's retry of it is then a
        duplicate that the worker stores once, by its Message-ID or content)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._queue.put(_Waiting(mail, future, loop))
        return future

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued, then end the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stopping = [first], False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            # A session that gave up waiting (451) cancelled its future: its mail is not written.
            # (Read from this thread without a lock: a cancel right after this look still gets
            # its 451, and the mail is written; see submit.)
            live = [w for w in batch if not w.future.cancelled()]
            if live:
                self._write(live)
            if stopping:
                return

    def _write(self, batch: list[_Waiting]) -> None:
        outcome: list[int] | BaseException
        try:
            with self.gate.spool():
                outcome = write_rows(self.svc, [w.mail for w in batch])
        except BaseException as exc:  # noqa: BLE001 - every waiting session gets the error
            outcome = exc
        else:
            if self.on_written is not None:
                self.on_written()
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int | None]]] = {}
        ids: list[int | None] = outcome if isinstance(outcome, list) else [None] * len(batch)  # type: ignore[assignment]
        for waiting, row_id in zip(batch, ids, strict=True):
            by_loop.setdefault(waiting.loop, []).append((waiting.future, row_id))
        error = outcome if isinstance(outcome, BaseException) else None
        for loop, answers in by_loop.items():
            try:
                loop.call_soon_threadsafe(_answer, answers, error)
            except RuntimeError:  # the loop is closed: the server stopped, nobody is waiting
                pass


def _answer(answers: list[tuple[asyncio.Future[int], int | None]], error: BaseException | None) -> None:
    """On the event loop: give each waiting session its row id, or the batch's error."""
    for future, row_id in answers:
        if future.done():  # gave up (451) or its session is gone
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(row_id)  # type: ignore[arg-type]


_COLUMNS = [
    "received_at",
    "mail_from",
    "rcpt_tos",
    "sender_key",
    "raw",
    "status",
    "attempts",
    "next_attempt_at",
]


def write_rows(svc: Services, mails: list[Spooled]) -> list[int]:
    """Insert the mails in one transaction and commit (on SQLite with a full fsync); their ids."""
    now = svc.clock.now()
    rows = [
        {
            "received_at": now,
            "mail_from": m.mail_from[:512],
            "rcpt_tos": {"to": m.rcpt_tos},
            "sender_key": m.mail_from.strip().lower()[:512],
            "raw": m.raw,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for m in mails
    ]
    with svc.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return _write_sqlite(conn, rows)
        statement = insert(MailSpoolItem).returning(MailSpoolItem.id, sort_by_parameter_order=True)
        with conn.begin():
            return [int(r[0]) for r in conn.execute(statement, rows)]


def _write_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """One INSERT per row on the driver's cursor, its rowid read back, in one synced transaction.

    Not through SQLAlchemy's executemany: SQLite does not promise RETURNING's order, so SQLAlchemy
    ran one full statement execution per row (about 0.1 ms of CPU each, plus ~0.9 ms per batch),
    which made the committer thread the largest CPU cost of an accepted mail. The values go through
    the columns' own SQLAlchemy bind processors, so the rows are the ones the ORM would write.
    """
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    sql, processors = _sqlite_insert(conn.dialect)
    cursor = dbapi.cursor()
    ids: list[int] = []
    try:
        # The rest of the app runs synchronous=NORMAL (WAL: safe from a crash, not from a power
        # cut); the spool promises what an MTA's 250 promises, so its commit is synced. The
        # connection is in autocommit mode (isolation_level None): we say BEGIN and COMMIT.
        cursor.execute("PRAGMA synchronous=FULL")
        try:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    cursor.execute(sql, [f(row[c]) if f else row[c] for c, f in processors])
                    ids.append(int(cursor.lastrowid or 0))
                cursor.execute("COMMIT")
            except BaseException:
                if dbapi.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.execute("PRAGMA synchronous=NORMAL")
    except conn.dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy would raise it (is_temporary tells 451 from 554 by these classes).
        raise sa_exc.DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
    return ids


_SQLITE_INSERTS: weakref.WeakKeyDictionary[Dialect, tuple[str, list[tuple[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)


def _sqlite_insert(dialect: Dialect) -> tuple[str, list[tuple[str, Any]]]:
    cached = _SQLITE_INSERTS.get(dialect)
    if cached is None:
        compiled = insert(MailSpoolItem).compile(dialect=dialect, column_keys=_COLUMNS)
        columns = MailSpoolItem.__table__.c
        order = list(compiled.positiontup or [])
        processors = [(c, columns[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in order]
        cached = _SQLITE_INSERTS[dialect] = (str(compiled), processors)
    return cached


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
