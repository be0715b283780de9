"""Pieces of bench_metrics.py for the rollups' changed-week and cold paths: load-independent work
counters, a real change to a three-week-old ticket, and the write lock's wait during a warm-up.

* `Work` counts the SQL statements every engine of the process runs (the page server's too) and,
  on SQLite, the virtual-machine instructions they cost (a progress handler on each connection,
  counted in steps of `VM_STEP`, printed in millions): both independent of the machine's load.
* `Reopener` reopens, then resolves again, one ticket created and resolved three weeks back,
  through `set_status` as the console does (a reopen gets a fresh resolution target from now):
  the change log gets what such a change really logs.
* `lock_waits` runs `fn` while another thread takes and drops SQLite's write lock (BEGIN
  IMMEDIATE, as every writer does) every 10 ms, and returns the longest wait: what an inbound
  write would wait for while the warm-up runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from helpdesk.db import Database
from helpdesk.models import Ticket
from helpdesk.services import Services
from helpdesk.tickets import Actor, set_status

# Instructions between two calls of the progress handler: a Python call every 1,000 made the
# queries ~3x slower; every 100,000 costs nothing measurable and still resolves 0.1 M.
VM_STEP = 100_000


class Work:
    def __init__(self) -> None:
        self.statements = 0
        self.vm_steps = 0
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "connect", self._connect)

    def _statement(self, *args: Any) -> None:
        self.statements += 1

    def _connect(self, dbapi_conn: Any, record: Any) -> None:
        if hasattr(dbapi_conn, "set_progress_handler"):  # sqlite3

            def step() -> int:
                self.vm_steps += 1
                return 0

            dbapi_conn.set_progress_handler(step, VM_STEP)

    def reset(self) -> tuple[int, int]:
        out = (self.statements, self.vm_steps)
        self.statements = self.vm_steps = 0
        return out


class Reopener:
    def __init__(self, svc: Services, now: datetime) -> None:
        self.svc = svc
        t = Ticket
        start = now - timedelta(weeks=3, days=1)
        with svc.db.session() as s:
            self.reference = s.scalars(
                select(t.reference)
                .where(
                    t.created_at >= start,
                    t.created_at < start + timedelta(days=1),
                    t.resolved_at < start + timedelta(days=2),
                    t.status.in_(("resolved", "closed")),
                    t.merged_into_id.is_(None),
                )
                .limit(1)
            ).one()
        self.status = "closed"

    def __call__(self) -> None:
        """Reopen it (a fresh resolution target from now), or resolve it again (now)."""
        self.status = "resolved" if self.status == "open" else "open"
        set_status(self.svc, self.reference, Actor.system("bench"), self.status)


def lock_waits(db: Database, fn: Callable[[], object]) -> float:
    """The longest wait (ms) for SQLite's write lock while `fn` runs."""
    done = threading.Event()
    waits: list[float] = []

    def writer() -> None:
        with db.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            while not done.is_set():
                started = time.perf_counter()
                raw.execute("BEGIN IMMEDIATE")
                waits.append((time.perf_counter() - started) * 1000)
                raw.execute("ROLLBACK")
                time.sleep(0.01)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join(timeout=60)
    return max(waits, default=0.0)
