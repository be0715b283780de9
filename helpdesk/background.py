"""A background worker thread: runs ``run_once`` when woken, or every ``poll_seconds`` at the latest.

Shared by the SLA checker, the retention job, the outbox dispatcher and the mail spool worker (it
lives in the core so the core's jobs can use it: channels import the core, never back). In one
process a producer wakes the worker at once (an Event set after its commit); across processes
(``helpdesk smtp`` beside ``helpdesk worker``) nobody can, so the poll interval is the upper bound
on the wait.
"""

from __future__ import annotations

import logging
import threading


class BackgroundWorker:
    """Subclasses set ``name`` and implement ``run_once`` (do every due item, check ``stopping``).

    ``join_timeout`` bounds how long ``stop`` waits for the pass in hand; ``failure_message`` is
    logged (with the traceback) when a pass raises, and the loop goes on."""

    name = "worker"
    join_timeout = 10.0
    failure_message = "%s: a pass failed; retrying"

    def __init__(self, poll_seconds: float, wakeup: threading.Event | None = None) -> None:
        self.poll_seconds = poll_seconds
        self._wakeup = wakeup if wakeup is not None else threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """New work was committed: look now rather than at the next poll."""
        self._wakeup.set()

    def run_once(self) -> object:
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is not None:
            return  # already running
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Take nothing more, finish what is in hand (the subclass bounds it), return."""
        self._halt(self.join_timeout)

    def _halt(self, timeout: float) -> None:
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            # Cleared before the pass, not after: a wake-up during the pass means another pass.
            self._wakeup.clear()
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the database may be briefly away; keep the loop
                # Under the subclass's module's logger, where its other records go.
                logging.getLogger(type(self).__module__).exception(self.failure_message, self.name)
            if not self._stop.is_set():  # a stop whose wake-up the clear above swallowed
                self._wakeup.wait(self.poll_seconds)
