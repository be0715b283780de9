"""One writer thread per process for chat messages: several citizens' messages, one transaction.

Measured with bench/chat/run.py (50 citizens): each Socket.IO handler thread opening its own write
transaction spent most of its time waiting, first for a pooled connection (15 for 50 threads),
then in SQLite's busy handler, which polls the single write lock with sleeps of up to 100 ms;
that, not the store work, made the p95. Here the handler threads only prepare their message
(normalize, triage: no lock) and queue it; this thread takes whatever is queued (up to
``MAX_BATCH``) and stores it with ``write_prepared`` in ONE transaction, so the lock is taken
once per batch and never waited for inside the process. Right after the commit this thread
publishes the batch's events, in order, with one round trip to the message queue (Redis) for
all of them (``publish_batch``), then wakes each citizen's thread. On PostgreSQL it works the
same (a few writers per process; processes still write concurrently, the core is safe for that).

A batch that fails is stored again one message at a time, so one bad message fails alone.

Each writer thread keeps its database connection between batches (given back when it ends):
the pool's checkout pre-ping was a ``SELECT 1`` round trip per batch on PostgreSQL. A kept
connection that died (PostgreSQL restarted, the backend ended) fails its next batch with a
disconnect: the thread drops it and stores that batch again, once, on a fresh pooled (and
pre-pinged) connection. The visitors' rows go last, with the audit and index rows and the
COMMIT, in one round trip (``write_prepared``'s ``at_commit``).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from channels.chat.visitor_rows import VisitorTouch, touch_all
from helpdesk.services import Services
from helpdesk.tickets.inbound import InTransaction, write_prepared
from helpdesk.tickets.inbound_prepare import Prepared, Stored
from helpdesk.tickets.types import InboundResult

log = logging.getLogger(__name__)
MAX_BATCH = 64
PG_WRITERS = 2
IDLE_EXIT = 30.0  # seconds without a message before the thread ends (started again on demand)
HOLD = 1.0  # seconds without a message before a thread gives its kept connection back to the pool


@dataclass
class _Job:
    item: Prepared | None  # None: only the visitor touch (a page that left)
    touch: VisitorTouch | None
    done: threading.Event = field(default_factory=threading.Event)
    stored: Stored | None = None
    error: BaseException | None = None


class ChatWriter:
    def __init__(self, svc: Services, wait: float | None = None) -> None:
        self.svc = svc
        # A handler gives up after the database's own bounds (lock wait + statement) have passed.
        self.wait = wait or (svc.db.timeouts.lock + svc.db.timeouts.statement)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # None: a thread ends
        self._lock = threading.Lock()
        # SQLite has one writer at a time: one thread. PostgreSQL locks rows, and a single
        # thread would wait out every statement's round trip alone (bench/chat/run.py with
        # PostgreSQL + Redis: 43 msg/s with one thread): a few threads share the queue there.
        # Two, not four: every new ticket's transaction holds the year's reference counter row
        # (references stay without gaps) until its commit, so four writers mostly queued on it,
        # each with a batch of one; two make bigger batches (paced 250 msg/s: ours' p95 about
        # halved, burst msg/s up; bench/README.md, helper pgchat) and still leave one writing
        # while the other waits on a row lock.
        self.threads = 1 if svc.db.dialect == "sqlite" else PG_WRITERS
        self._running: list[threading.Thread] = []
        self._held = threading.local()  # .conn: this writer thread's connection, kept between batches
        svc.db.before_dispose(self.close)  # its kept connections go back before the pool closes

    def store(self, item: Prepared, touch: VisitorTouch | None = None) -> InboundResult:
        """Store one prepared message (and ``touch`` its visitor in the same transaction); block
        until committed. Raises what storing it raised, or TimeoutError."""
        job = _Job(item, touch)
        self._queue.put(job)
        self._ensure_thread()
        if not job.done.wait(self.wait):
            raise TimeoutError("chat writer did not answer in time")
        if job.error is not None:
            raise job.error
        assert job.stored is not None
        if job.stored.wake_outbox:  # its events went out with the batch's (_write)
            self.svc.wake_outbox()
        return job.stored.result

    def touch_later(self, touch: VisitorTouch) -> None:
        """Queue a visitor-only write (presence on disconnect) without waiting for it: in the
        same transactions as the messages, instead of competing with them for the lock."""
        self._queue.put(_Job(None, touch))
        self._ensure_thread()

    def close(self, timeout: float = 5.0) -> None:
        """End the writer threads once the queued messages are stored (their connections go
        back to the pool); a later ``store`` starts new ones."""
        with self._lock:
            running = list(self._running)
            for _ in running:
                self._queue.put(None)
        for thread in running:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            self._running = [t for t in self._running if t.is_alive()]
            while len(self._running) < self.threads:
                thread = threading.Thread(target=self._run, name="chat-writer", daemon=True)
                self._running.append(thread)
                thread.start()

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._release()

    def _serve(self) -> None:
        while True:
            try:  # the kept connection stays while messages keep coming, at most HOLD idle
                first = self._queue.get(timeout=min(HOLD, IDLE_EXIT))
            except queue.Empty:
                self._release()
                try:
                    first = self._queue.get(timeout=max(IDLE_EXIT - HOLD, 0.0))
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():  # nothing raced in: end; store() starts a new one
                            self._running.remove(threading.current_thread())
                            return
                    continue
            batch: list[_Job] = []
            job = first
            while job is not None:
                batch.append(job)
                if len(batch) == MAX_BATCH:
                    break
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            if job is None:  # close(): this thread ends
                with self._lock:
                    self._running.remove(threading.current_thread())
                if not self._queue.empty():  # a message queued as it ended: not left alone
                    self._ensure_thread()
                return

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._held, "conn", None)
        if conn is None:
            conn = self._held.conn = self.svc.db.engine.connect()
        return conn

    def _release(self) -> None:
        conn: Connection | None = getattr(self._held, "conn", None)
        self._held.conn = None
        if conn is not None:
            try:
                conn.close()  # back to the pool (rolled back there), or discarded if it died
            except Exception:  # noqa: BLE001 - a dead connection may fail to close; it is gone
                log.warning("chat writer: closing its connection failed")

    def _store(self, batch: list[_Job]) -> list[Stored]:
        """The batch in one transaction on this thread's kept connection; once again on a fresh
        one if the kept connection had died (the database restarted since the last batch)."""
        items = [j.item for j in batch if j.item is not None]
        for attempt in (1, 2):
            try:
                return write_prepared(self.svc, items, at_commit=_touch_all(batch), conn=self._connection())
            except Exception as exc:
                self._release()  # after any failure, the next transaction starts on a clean one
                if attempt == 2 or not (isinstance(exc, DBAPIError) and exc.connection_invalidated):
                    raise
        raise AssertionError("unreachable")

    def _write(self, batch: list[_Job]) -> None:
        try:
            stored = iter(self._store(batch))
        except Exception as exc:  # noqa: BLE001 - handed to the handler, which reports it
            if len(batch) > 1:  # nothing was kept: find the one that fails, store the others
                for job in batch:
                    self._write([job])
                return
            log.warning("chat write failed: %s", type(exc).__name__)
            batch[0].error = exc
            batch[0].done.set()
            return
        for job in batch:
            if job.item is not None:
                job.stored = next(stored)
        try:  # committed: the batch's events, in order, in one message-queue round trip
            self.svc.publisher.publish_batch([j.stored.events for j in batch if j.stored is not None])
        finally:  # whatever the publishing did, every message is stored: answer its citizen
            for job in batch:
                job.done.set()


def _touch_all(batch: list[_Job]) -> InTransaction | None:
    """The batch's visitor touches, in one statement (``visitor_rows``), last in its transaction
    (they return nothing: on PostgreSQL they go with the COMMIT)."""
    touches = [j.touch for j in batch if j.touch is not None]
    if not touches:
        return None

    def run(conn: Connection) -> None:
        touch_all(conn, touches)

    return run
