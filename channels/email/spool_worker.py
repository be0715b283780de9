"""The spool worker: spooled mail -> core calls (parse, thread, triage, ``receive_inbound``).

Exactly once: a row is claimed before it is read and deleted after the core has it. A crash in
between leaves the row claimed; it is released (at once on this host when the process is gone,
after ``STALE_CLAIM`` elsewhere) and processed again, and ``receive_inbound``'s idempotency by
external id (the Message-ID, or the raw mail's sha256) turns the second pass into a duplicate, not
a second ticket. Runs in the embedded process and in ``helpdesk worker``.
"""

from __future__ import annotations

import logging
import threading

from channels.email import spool
from channels.email.inbound import NoSender, Outcome, handle_message
from helpdesk.claims import worker_name
from helpdesk.services import Services

log = logging.getLogger(__name__)


class SpoolWorker:
    name = "mail-spool"

    def __init__(self, svc: Services, poll_seconds: float = 0.5) -> None:
        self.svc = svc
        self.poll_seconds = poll_seconds
        self.worker = worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """New mail was spooled (the SMTP server in this process calls this)."""
        self._wake.set()

    def run_once(self) -> dict[int, Outcome | None]:
        """Process every due row; the outcome of each (None: kept for a retry or failed)."""
        spool.release_abandoned(self.svc)
        results: dict[int, Outcome | None] = {}
        while not self._stop.is_set():
            claimed = False
            for item_id in spool.due_ids(self.svc):
                if self._stop.is_set():  # SIGTERM: the row not yet claimed stays for the next worker
                    break
                if spool.claim(self.svc, item_id, self.worker):
                    claimed = True
                    results[item_id] = self._process(item_id)
            if not claimed:
                break
        return results

    def _process(self, item_id: int) -> Outcome | None:
        raw, mail_from, rcpt_tos, attempts = spool.load(self.svc, item_id)
        try:
            outcome = handle_message(self.svc, raw, mail_from, rcpt_tos)
        except NoSender:
            # Null envelope sender, no usable From, not a bounce: nobody to answer (an MTA would
            # have refused it; a 550 to a null sender goes nowhere either).
            log.info("spooled mail %s names no sender; dropped", item_id)
            spool.finish(self.svc, item_id)
            return Outcome("dropped", detail="no sender")
        except Exception as exc:  # noqa: BLE001 - decide: retry later, or keep it failed
            # The type only: a database error's text carries the row's values (addresses).
            error = f"{type(exc).__name__}"
            if spool.is_temporary(exc) and attempts < spool.MAX_TEMPORARY_ATTEMPTS:
                log.warning("spooled mail %s: temporary failure (%s); will retry", item_id, error)
                spool.retry_later(self.svc, item_id, error, attempts)
            else:
                log.error("spooled mail %s cannot be processed (%s); kept as failed", item_id, error)
                spool.fail(self.svc, item_id, error)
            return None
        spool.finish(self.svc, item_id)
        return outcome

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="mail-spool-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the mail in hand (seconds at most) and stop; unclaimed rows stay pending."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the database may be briefly away; keep the loop
                log.exception("mail spool processing failed; retrying")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
