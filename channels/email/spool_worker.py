"""The spool worker: spooled mail -> core calls (parse, thread, triage, ``receive_inbound``).

In batches: one statement claims up to ``spool.MAX_CLAIM`` due mails with their raw bytes, each is
stored in arrival order, and one statement deletes the finished rows. Exactly once: a crash before
that delete leaves the rows claimed; they are released (at once on this host when the process is
gone, after ``STALE_CLAIM`` elsewhere) and processed again, and ``receive_inbound``'s idempotency
by external id (the Message-ID, or the raw mail's sha256) turns the second pass into duplicates,
never a second ticket. Runs in the embedded process and in ``helpdesk worker``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from sqlalchemy import Connection, delete

import helpdesk.tickets
from channels.email import spool
from channels.email.inbound import NoSender, Outcome, Reading, act, outcome_of, read_mail
from channels.email.write_gate import LATENCY_BUDGET, WriteGate
from channels.polling import PollingWorker
from helpdesk.claims import worker_name
from helpdesk.models import MailSpoolItem
from helpdesk.services import Services
from helpdesk.tickets import InboundMessage

log = logging.getLogger(__name__)
# Without an SMTP server in this process (``helpdesk smtp`` beside ``helpdesk worker``) nobody wakes
# the worker, so it looks this often; the look is one indexed read, no write lock.
POLL_SECONDS = 0.2
DONE, RETRY, FAILED = "done", "retry", "failed"
WRITE_BATCH = 16  # mails stored in one transaction (the SMTP spool waits for it on SQLite)
# The core's batch entry point (issue 14 item 1); without it, one transaction per mail.
_STORE_MANY = getattr(helpdesk.tickets, "receive_inbound_many", None)


class SpoolWorker(PollingWorker):
    name = "mail-spool"

    def __init__(self, svc: Services, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__(poll_seconds)
        self.svc = svc
        self.worker = worker_name()
        # Shared with the SMTP server of this process (SmtpService(gate=...)), if any.
        self.gate = WriteGate(enabled=svc.db.dialect == "sqlite")

    def run_once(self) -> dict[int, Outcome | None]:
        """Process every due row; the outcome of each (None: kept for a retry or failed)."""
        spool.release_abandoned(self.svc)
        results: dict[int, Outcome | None] = {}
        while not self.stopping:
            with self.gate.claim():  # during a burst of incoming mail, a little later (write_gate)
                batch = spool.claim_batch(self.svc, self.worker)
            if not batch:
                break
            self._run_batch(batch, results)
        return results

    def _run_batch(self, batch: list[spool.Claimed], results: dict[int, Outcome | None]) -> None:
        done: list[int] = []  # finished here; rows stored through the core left the spool with them
        untried: list[int] = []
        waiting: set[str] = set()  # senders whose earlier mail waits for a retry: theirs wait too
        to_store: list[tuple[spool.Claimed, InboundMessage]] = []
        # While mail keeps arriving, each read waits for a gap until the oldest mail is due.
        gap_until = self._defer_until(batch) if batch else 0.0
        try:
            for item in batch:
                if self.stopping or item.sender_key in waiting:
                    # SIGTERM: what is not started stays for the next worker, untouched.
                    untried.append(item.id)
                    continue
                self.gate.yield_to_burst(gap_until)
                reading, state = self._read(item)
                if reading is not None and reading.inbound is not None and _STORE_MANY is not None:
                    to_store.append((item, reading.inbound))
                    if len(to_store) >= WRITE_BATCH:
                        self._store_many(to_store, results, done, waiting)
                        to_store = []
                    continue
                outcome, state = self._act(item, reading) if reading is not None else (None, state)
                results[item.id] = outcome
                self._note(item, state, done, waiting)
            self._store_many(to_store, results, done, waiting)
        finally:
            # Even when a pass dies (the database went away mid-batch): what is finished leaves the
            # spool, what was not tried is pending again (if these fail too, release_abandoned does it).
            with self.gate.worker():
                spool.finish(self.svc, *done)
                spool.release(self.svc, untried)

    def _store_many(
        self,
        chunk: list[tuple[spool.Claimed, InboundMessage]],
        results: dict[int, Outcome | None],
        done: list[int],
        waiting: set[str],
    ) -> None:
        """Store several mails and delete their spool rows in one transaction (a crash cannot leave
        a stored mail spooled); if it fails, one at a time, to keep what can be kept."""
        store_many = _STORE_MANY
        if not chunk or store_many is None:
            return
        ids = [item.id for item, _ in chunk]

        def unspool(conn: Connection) -> None:
            conn.execute(delete(MailSpoolItem).where(MailSpoolItem.id.in_(ids)))

        try:
            with self.gate.worker(self._defer_until(item for item, _ in chunk)):
                stored = store_many(self.svc, [m for _, m in chunk], in_transaction=unspool)
        except Exception as exc:  # noqa: BLE001 - all or nothing: find the culprit one by one
            log.warning(
                "storing %s spooled mails together failed (%s); one at a time", len(ids), type(exc).__name__
            )
            for item, message in chunk:
                if item.sender_key in waiting:
                    spool.release(self.svc, [item.id])
                    continue
                outcome, state = self._act(item, Reading(inbound=message))
                results[item.id] = outcome
                self._note(item, state, done, waiting)
            return
        for (item, _), result in zip(chunk, stored, strict=True):
            results[item.id] = outcome_of(result)

    def _defer_until(self, items: Iterable[spool.Claimed]) -> float:
        """How long a write of these mails may give way to a burst of incoming mail: until the
        oldest would be ``LATENCY_BUDGET`` old (time.monotonic())."""
        now = self.svc.clock.now()
        age = max((now - item.received_at).total_seconds() for item in items)
        return time.monotonic() + max(0.0, LATENCY_BUDGET - age)

    @staticmethod
    def _note(item: spool.Claimed, state: str, done: list[int], waiting: set[str]) -> None:
        if state == DONE:
            done.append(item.id)
        elif state == RETRY:
            waiting.add(item.sender_key)

    def _read(self, item: spool.Claimed) -> tuple[Reading | None, str]:
        """What the mail asks for (no lock held); None when it failed (then RETRY or FAILED)."""
        try:
            return read_mail(self.svc, item.raw, item.mail_from, item.rcpt_tos), DONE
        except NoSender:
            return Reading(outcome=self._no_sender(item)), DONE
        except Exception as exc:  # noqa: BLE001 - decide: retry later, or keep it failed
            return None, self._failed(item, exc)

    def _act(self, item: spool.Claimed, reading: Reading) -> tuple[Outcome | None, str]:
        """The outcome, and what became of the row: DONE (stored or deliberately dropped, so it
        leaves the spool), RETRY (pending again with a backoff) or FAILED (kept for an admin)."""
        try:
            return act(self.svc, reading, self.gate, self._defer_until([item])), DONE
        except Exception as exc:  # noqa: BLE001 - decide: retry later, or keep it failed
            return None, self._failed(item, exc)

    @staticmethod
    def _no_sender(item: spool.Claimed) -> Outcome:
        # Null envelope sender, no usable From, not a bounce: nobody to answer (an MTA would have
        # refused it; a 550 to a null sender goes nowhere either).
        log.info("spooled mail %s names no sender; dropped", item.id)
        return Outcome("dropped", detail="no sender")

    def _failed(self, item: spool.Claimed, exc: Exception) -> str:
        # The type only: a database error's text carries the row's values (addresses).
        error = f"{type(exc).__name__}"
        if spool.is_temporary(exc) and item.attempts < spool.MAX_TEMPORARY_ATTEMPTS:
            log.warning("spooled mail %s: temporary failure (%s); will retry", item.id, error)
            spool.retry_later(self.svc, item.id, error, item.attempts)
            return RETRY
        log.error("spooled mail %s cannot be processed (%s); kept as failed", item.id, error)
        spool.fail(self.svc, item.id, error)
        return FAILED
