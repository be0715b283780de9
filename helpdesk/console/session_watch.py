"""Live console sockets end with their login.

A console socket is authorized once, at connect; every event it sends is checked again, but a
console that only listens would go on receiving tickets after its agent logged out elsewhere, was
deactivated (`helpdesk user deactivate`) or sat idle past the session limit. This watch looks at
the sessions behind this process's sockets every few seconds, in one query, and disconnects those
whose session is no longer valid. It reads the database, so a deactivation made by the CLI or by
another server process is seen here too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from helpdesk.auth.accounts import SESSION_IDLE, digest
from helpdesk.models import Agent, AgentSession
from helpdesk.services import Services

log = logging.getLogger(__name__)


class SessionWatch:
    def __init__(self, svc: Services, end: Callable[[str], None], interval: float) -> None:
        self.svc = svc
        self.end = end  # tell the socket its session ended, and disconnect it
        self.interval = interval
        self._lock = threading.Lock()
        self._sockets: dict[str, str] = {}  # sid -> digest of its session key
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, sid: str, session_key: str) -> None:
        with self._lock:
            self._sockets[sid] = digest(session_key)
            if self._thread is None or not self._thread.is_alive():
                # Runs only while this process has console sockets: no thread for idle apps.
                self._thread = threading.Thread(
                    target=self._run, name="console-session-watch", daemon=True
                )
                self._thread.start()

    def discard(self, sid: str) -> None:
        with self._lock:
            self._sockets.pop(sid, None)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                if not self._sockets:
                    self._thread = None
                    return
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - keep watching; a failed pass ends nothing
                log.warning("console session check failed: %s", type(exc).__name__)

    def sweep(self, now: datetime | None = None) -> list[str]:
        """Disconnect the sockets whose session ended; returns their sids."""
        with self._lock:
            sockets = dict(self._sockets)
        if not sockets:
            return []
        now = now or self.svc.clock.now()
        with self.svc.db.session() as s:
            live = set(
                s.scalars(
                    select(AgentSession.key_hash)
                    .join(Agent, Agent.id == AgentSession.agent_id)
                    .where(
                        AgentSession.key_hash.in_(set(sockets.values())),
                        AgentSession.revoked.is_(False),
                        AgentSession.last_seen_at >= now - SESSION_IDLE,
                        Agent.active.is_(True),
                    )
                )
            )
        ended = [sid for sid, key in sockets.items() if key not in live]
        for sid in ended:
            self.discard(sid)
            self.end(sid)
        return ended
