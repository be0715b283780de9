"""The channels' background worker: the core's `BackgroundWorker`, stopped within a caller's budget.

``helpdesk.wsgi.stop_services`` passes what is left of its shutdown time to a ``stop`` that takes a
``timeout``, so the outbox dispatcher and the mail spool worker can finish the item in hand.
"""

from __future__ import annotations

from helpdesk.background import BackgroundWorker


class PollingWorker(BackgroundWorker):
    def stop(self, timeout: float = 10.0) -> None:
        self._halt(timeout)
