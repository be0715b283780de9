"""SQLite's WAL checkpoints on a thread of their own, not inside a request's commit (issue 14).

By default SQLite checkpoints in the commit that takes the write-ahead log past 1000 pages: that
commit copies the log's pages into the database file and fsyncs both (the only fsyncs under
``synchronous=NORMAL``). A new ticket writes ~50 pages (the row, ~15 indexes of tickets, its
message, contact, audit and search rows), so every ~20th create paid a checkpoint: 3-15 ms on top
of ~1 ms, the slow 5% of ``receive_inbound`` (bench/tickets/core_latency.py, bench/README.md
"corelat").

Here each writing connection's own checkpoint waits for a much longer log (``SAFETY_PAGES``),
and a thread (one per ``Database``, i.e. per process) runs a PASSIVE checkpoint, which never
blocks a writer, after every ``COMMITS`` commits of this process, or within ``poll_seconds`` of
a lone commit. The log stays bounded: if the thread falls behind (or another process writes
faster than its own thread checkpoints), the writers' own checkpoint at ``SAFETY_PAGES`` still
happens, as before, only later. Durability is unchanged: a commit is as durable as before (the
log is fsynced when checkpointed, sooner rather than later here).

A checkpoint that must truncate the log (backup, privacy scrub) uses ``truncate_log``, which
waits for this thread's pass in hand instead of failing as busy.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event

from helpdesk.background import BackgroundWorker

# Commits between two passes: ~1000 pages of log for new tickets (~50 pages each), SQLite's own
# default; fewer pages for smaller commits (the chat's), which costs a little more I/O, off the
# write path.
COMMITS = 20
# Passes right after a commit each while waiting for the log to restart (see WalCheckpointer).
CATCH_UP = 4
# The writers' own checkpoint (PRAGMA wal_autocheckpoint, pages): the bound on the log when this
# thread lags: 32 MiB of 4 KiB pages, ~160 new tickets (~0.6% of back-to-back creates pay it).
SAFETY_PAGES = 8000


_inherited: list[sqlite3.Connection] = []  # a forked child's copies of the parent's connections


class WalCheckpointer(BackgroundWorker):
    name = "sqlite-checkpoint"
    join_timeout = 10.0
    failure_message = "%s: a checkpoint failed; retrying"

    def __init__(self, path: str, poll_seconds: float = 1.0, commits: int = COMMITS) -> None:
        super().__init__(poll_seconds)
        self.path = path
        self.commits = commits
        self._pending = 0  # commits since the last pass (a data race is harmless: a pass or two late)
        self._conn: sqlite3.Connection | None = None
        # Held for a pass; truncate_log takes it too, so the two never meet at SQLite's lock.
        self.lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        # SQLite starts the log again from its beginning (so it stays small) only in a write
        # transaction that BEGINs after a pass copied all of it, with no commit in between. Until
        # then (the log did not shrink since the last pass), up to CATCH_UP passes run right after
        # a commit each, in the pause that usually follows one; under back-to-back writes the
        # writers' own checkpoint at SAFETY_PAGES does it.
        self._last_frames = 0
        self._catch_up = 0

    def committed(self) -> None:
        """A commit of this process: a pass after every ``commits`` of them."""
        self._pending += 1
        if self._pid != os.getpid():  # a forked child: the thread and its connection stayed behind
            self._forked()
        if self._thread is None and not self._closed:
            self.start()
        if self._catch_up or self._pending >= self.commits:
            self.wake()

    def _forked(self) -> None:
        self._pid = os.getpid()
        if self._conn is not None:  # the parent's: never used (nor closed) here
            _inherited.append(self._conn)
            self._conn = None
        self._thread = None
        self.lock = threading.Lock()

    def run_once(self) -> object:
        if self._pending == 0:
            return None
        self._pending = 0
        with self.lock:
            if self._conn is None:
                # Its own connection, outside the pool; no busy handler: PASSIVE never waits.
                self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            busy, frames, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        # frames: the log's length. Not longer than at the last pass: SQLite started it again (a
        # longer log after a restart only costs a few passes more).
        if frames > self._last_frames and frames > 0:  # not restarted since the last pass
            self._catch_up = self._catch_up - 1 if self._catch_up else CATCH_UP
        else:
            self._catch_up = 0
        self._last_frames = frames
        return busy, frames, copied

    def stop(self) -> None:
        self._closed = True
        super().stop()
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def attach(engine: Engine, path: str) -> WalCheckpointer:
    """Checkpoint ``engine``'s database (a SQLite file at ``path``) on a thread: the writers' own
    checkpoint only at ``SAFETY_PAGES``, the thread's after every ``COMMITS`` commits."""
    checkpointer = WalCheckpointer(path)

    @event.listens_for(engine, "connect")
    def _later(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")

    # After the COMMIT itself (SQLAlchemy's "commit" event comes before it): a pass woken
    # earlier would start before this commit's pages are in the log and leave them behind.
    commit = engine.dialect.do_commit

    def do_commit(dbapi_connection: Any) -> None:
        commit(dbapi_connection)
        checkpointer.committed()

    engine.dialect.do_commit = do_commit  # type: ignore[method-assign]

    # A Database dropped without dispose() (tests) must not leave its thread behind.
    weakref.finalize(engine, checkpointer.stop)
    return checkpointer


def truncate_log(cursor: Any, checkpointer: WalCheckpointer | None) -> int:
    """``PRAGMA wal_checkpoint(TRUNCATE)`` on ``cursor``'s connection; returns SQLite's busy flag
    (1: a reader of another connection still needed the log, which is left as it is)."""
    if checkpointer is None:
        return int(cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
    with checkpointer.lock:
        return int(cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
