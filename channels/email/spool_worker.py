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

from channels.email import spool
from channels.email.inbound import NoSender, Outcome, handle_message
from channels.email.write_gate import WriteGate
from channels.polling import PollingWorker
from helpdesk.claims import worker_name
from helpdesk.services import Services

log = logging.getLogger(__name__)
# Without an SMTP server in this process (``helpdesk smtp`` beside ``helpdesk worker``) nobody wakes
# the worker, so it looks this often; the look is one indexed read, no write lock.
POLL_SECONDS = 0.2
DONE, RETRY, FAILED = "done", "retry", "failed"


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
            with self.gate.worker():
                batch = spool.claim_batch(self.svc, self.worker)
            if not batch:
                break
            self._run_batch(batch, results)
        return results

    def _run_batch(self, batch: list[spool.Claimed], results: dict[int, Outcome | None]) -> None:
        done: list[int] = []
        untried: list[int] = []
        waiting: set[str] = set()  # senders whose earlier mail waits for a retry: theirs wait too
        try:
            for item in batch:
                if self.stopping or item.sender_key in waiting:
                    # SIGTERM: what is not started stays for the next worker, untouched.
                    untried.append(item.id)
                    continue
                outcome, state = self._process(item)
                results[item.id] = outcome
                if state == DONE:
                    done.append(item.id)
                elif state == RETRY:
                    waiting.add(item.sender_key)
        finally:
            # Even when a pass dies (the database went away mid-batch): what is stored leaves the
            # spool, what was not tried is pending again (if these fail too, release_abandoned does it).
            with self.gate.worker():
                spool.finish(self.svc, *done)
                spool.release(self.svc, untried)

    def _process(self, item: spool.Claimed) -> tuple[Outcome | None, str]:
        """The outcome, and what became of the row: DONE (stored or deliberately dropped, so it
        leaves the spool), RETRY (pending again with a backoff) or FAILED (kept for an admin)."""
        try:
            return handle_message(self.svc, item.raw, item.mail_from, item.rcpt_tos, self.gate), DONE
        except NoSender:
            # Null envelope sender, no usable From, not a bounce: nobody to answer (an MTA would
            # have refused it; a 550 to a null sender goes nowhere either).
            log.info("spooled mail %s names no sender; dropped", item.id)
            return Outcome("dropped", detail="no sender"), DONE
        except Exception as exc:  # noqa: BLE001 - decide: retry later, or keep it failed
            # The type only: a database error's text carries the row's values (addresses).
            error = f"{type(exc).__name__}"
            if spool.is_temporary(exc) and item.attempts < spool.MAX_TEMPORARY_ATTEMPTS:
                log.warning("spooled mail %s: temporary failure (%s); will retry", item.id, error)
                spool.retry_later(self.svc, item.id, error, item.attempts)
                return None, RETRY
            else:
                log.error("spooled mail %s cannot be processed (%s); kept as failed", item.id, error)
                spool.fail(self.svc, item.id, error)
            return None, FAILED
