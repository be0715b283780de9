"""On SQLite, the SMTP spool's commits go before the spool worker's writes in the same process.

SQLite has one writer at a time, and a writer that finds the lock taken sleeps in growing steps
(SQLite's busy handler: 1, 2, 5 ... 100 ms) instead of being woken when it frees. With the worker
storing tickets in the same process, each group commit of the spool waited behind a ticket
transaction and then overslept it: the SMTP sessions (whose 250 waits for that commit) ran at a
tenth of a bare server's rate, against nearly nine tenths with the worker stopped (bench/email).
The gate hands the lock over at once and gives the spool priority: the worker starts its next
write only when no group commit is waiting and none ended in the last ``QUIET`` seconds (a burst
of mail in progress: the senders' next DATA is on its way), as an MTA accepts first and delivers
after. It defers a write no later than the caller's ``defer_until`` (the worker passes the moment
its oldest mail in hand would be ``LATENCY_BUDGET`` old), so a steady stream cannot starve it and
every mail still becomes a ticket within about that budget. On PostgreSQL (row locks, no single
writer) it does nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

QUIET = 0.02  # seconds without a group commit before the worker writes
LATENCY_BUDGET = 0.5  # ... but a spooled mail waits no longer than this for such a gap


class WriteGate:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._cond = threading.Condition()
        self._busy = False
        self._spool_waiting = 0
        self._spool_ended = 0.0  # time.monotonic() of the last group commit

    @contextmanager
    def spool(self) -> Iterator[None]:
        """Around a group commit: waits only for a write already under way."""
        if not self.enabled:
            yield
            return
        with self._cond:
            self._spool_waiting += 1
            try:
                while self._busy:
                    self._cond.wait()
            finally:
                self._spool_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            self._spool_ended = time.monotonic()
            self._release()

    @contextmanager
    def worker(self, defer_until: float = 0.0) -> Iterator[None]:
        """Around the worker's writes (a claim, mails stored, a batch finished): after any waiting
        group commit, and during a burst until ``defer_until`` (``time.monotonic()``; 0: at once)."""
        if not self.enabled:
            yield
            return
        with self._cond:
            give_up = defer_until
            while True:
                now = time.monotonic()
                if not (self._busy or self._spool_waiting):
                    quiet_at = min(self._spool_ended + QUIET, give_up)
                    if now >= quiet_at:
                        break
                    self._cond.wait(quiet_at - now)
                else:
                    self._cond.wait()
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()
