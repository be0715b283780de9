"""Answer Twilio fast, finish the work afterwards.

Twilio waits at most 15 s for a webhook and the issue asks for an answer within a second. Each
webhook hands its storing job to one worker thread and waits a short budget for it: when the job
is done in time the caller hears the ticket number; when it is not (a slow recording download, a
busy database) the webhook answers anyway and the job finishes on its own. One thread keeps the
jobs in arrival order, so a transcription is never stored before its recording.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TypeVar

from flask import Flask
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 3


def _where() -> str:
    """Exception type and where it was raised, without its message.

    Database errors carry the statement's parameters (phone numbers, message text) in their
    message, and personal data stays out of the logs.
    """
    kind, _, tb = sys.exc_info()
    stack = traceback.extract_tb(tb)
    # Our own frames say more than the library's innermost ones.
    frames = [f for f in stack if "site-packages" not in f.filename][-3:] or stack[-1:]
    trail = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))
    return f"{kind.__name__ if kind else '?'} at {trail}"


class PhoneWorker:
    name = "phone-worker"

    def __init__(self, app: Flask, budget_seconds: float = 0.8) -> None:
        self.app = app
        self.budget_seconds = budget_seconds
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="phone")

    def stop(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)  # accepted work is finished, not dropped

    def submit(self, job: Callable[[], T]) -> Future[T]:
        self.start()  # lazily: tests and the CLI never call start()
        assert self._executor is not None

        def in_context() -> T:
            with self.app.app_context():
                for attempt in range(1, RETRIES + 1):
                    try:
                        return job()
                    except OperationalError:  # a busy or restarting database: try again soon
                        if attempt == RETRIES:
                            log.error("phone job failed %d times: %s", RETRIES, _where())
                            raise
                        time.sleep(0.2 * attempt)
                    except Exception:
                        log.error("phone job failed: %s", _where())
                        raise
                raise AssertionError("unreachable")

        return self._executor.submit(in_context)

    def run(self, job: Callable[[], T]) -> tuple[bool, T | None]:
        """Run job on the worker: (True, result) if done within the budget, else (False, None).

        A job that fails within the budget raises here, so the webhook can refuse (and Twilio
        report) instead of claiming success.
        """
        future = self.submit(job)
        try:
            return True, future.result(timeout=self.budget_seconds)
        except FutureTimeout:
            return False, None

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every job submitted so far is done (tests, shutdown of the simulator)."""
        self.submit(lambda: None).result(timeout=timeout)
