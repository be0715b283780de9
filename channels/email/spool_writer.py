"""Writing the mail spool: group commit across concurrent SMTP sessions, one fsync per batch.

DESIGN.md §7 "Mail in two steps": the SMTP session ends when its raw mail is committed here (so
the 250 means "spooled", as an MTA's queue file does). Many concurrent sessions share one
transaction and one fsync: ``SpoolWriter``'s committer thread writes whatever is queued when it
gets to it, then answers each session. Taking the rows back out is ``spool``'s job.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, insert
from sqlalchemy import exc as sa_exc

from channels.email.write_gate import WriteGate
from helpdesk.models import MailSpoolItem
from helpdesk.services import Services

MAX_BATCH = 256  # sessions written in one group commit

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
