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
writer) it hands no lock over.

The same holds for the worker's CPU, on either store: parsing, classifying and storing a mail costs
several times what accepting it does, and in one process the worker's thread and the SMTP server's
event loop share one GIL: every socket write of the loop let the worker's thread run for up to a
switch interval (5 ms) before the loop got the GIL back, so with the worker busy the server took
mail at a fraction of its rate. So during a burst the worker also waits before it claims mail
(``claim``: until the oldest mail spooled since its last claim is ``LATENCY_BUDGET`` old) and
before each mail it reads (``yield_to_burst``), and does the work in the gaps or once the budget is
spent, as an MTA accepts first and delivers after.
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
        self.enabled = enabled  # hand the write lock over (SQLite); the burst is tracked anyway
        self._cond = threading.Condition()
        self._busy = False
        self._spool_waiting = 0
        self._spool_ended = 0.0  # time.monotonic() of the last group commit
        self._unclaimed_since: float | None = None  # the first group commit since the last claim

    @contextmanager
    def spool(self) -> Iterator[None]:
        """Around a group commit: waits only for a write already under way."""
        if not self.enabled:
            try:
                yield
            finally:
                self._committed()
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
            self._committed()
            self._release()

    def _committed(self) -> None:
        with self._cond:
            self._spool_ended = time.monotonic()
            if self._unclaimed_since is None:
                self._unclaimed_since = self._spool_ended

    @contextmanager
    def claim(self) -> Iterator[None]:
        """Around the worker's claim of spooled mail: during a burst, until the oldest mail spooled
        since its last claim is ``LATENCY_BUDGET`` old (at once for mail this process did not
        spool: after a restart, or with the SMTP server in another process)."""
        with self._cond:
            since = self._unclaimed_since
        if since is not None:
            self.yield_to_burst(since + LATENCY_BUDGET)
        with self.worker():
            with self._cond:  # before the claim reads: a commit after this is noted for the next
                self._unclaimed_since = None
            yield

    def yield_to_burst(self, until: float) -> None:
        """Before a CPU-heavy step of the worker: wait while mail is arriving (a group commit ended
        less than ``QUIET`` ago, or one is waiting), but not past ``until`` (``time.monotonic()``)."""
        with self._cond:
            while True:
                now = time.monotonic()
                quiet_at = self._spool_ended + QUIET
                if now >= until or (now >= quiet_at and not self._spool_waiting):
                    return
                self._cond.wait((min(quiet_at, until) if quiet_at > now else until) - now)

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
