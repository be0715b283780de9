"""The business-hours policy with an administrator's stored hours, holidays and targets.

`ConfiguredSla` is a `BusinessHoursSla` whose calendar and targets come from the settings
overlaid by the `service_settings` rows (helpdesk/administration/service_hours.py writes them).
It reads them once when built and again every half minute, so every server process follows a
change; the process that made it calls `refresh()` at once. The half-minute reload runs on a thread
of its own, never on the caller's: callers sit inside a write transaction (receive_inbound ->
on_open) holding a pooled connection and row locks, and a second checkout there deadlocks the pool
under load (every connection held by a writer waiting for the row lock of the one that waits for a
connection).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.business_hours import BusinessCalendar
from helpdesk.db import Database
from helpdesk.models import ServiceSetting
from helpdesk.settings import Settings
from helpdesk.sla.policy import DEFAULT_TARGETS, BusinessHoursSla, Target, parse_targets

log = logging.getLogger(__name__)
RELOAD_SECONDS = 30.0


def _has_table(db: Database) -> bool:
    try:
        return inspect(db.engine).has_table(ServiceSetting.__tablename__)
    except SQLAlchemyError:
        return False


def stored_settings(db: Database) -> dict[str, str]:
    with db.session() as s:
        return {r.key: r.value for r in s.scalars(select(ServiceSetting))}


def effective_settings(settings: Settings, stored: dict[str, str]) -> Settings:
    """The settings with the stored business hours, holidays and SLA targets in force."""
    changes: dict[str, Any] = {}
    if stored.get("business_hours"):
        changes["business_hours"] = stored["business_hours"]
    if "holidays" in stored:
        changes["holidays"] = tuple(
            date.fromisoformat(d) for d in stored["holidays"].split(",") if d.strip()
        )
    if stored.get("sla_targets"):
        changes["sla_targets"] = stored["sla_targets"]
    return replace(settings, **changes)


class ConfiguredSla(BusinessHoursSla):
    def __init__(self, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db
        self._lock = threading.Lock()
        self._reloading = threading.Lock()
        self._loaded_at = float("-inf")
        self._hours = settings.business_hours
        base = BusinessHoursSla.from_settings(settings)
        super().__init__(base.calendar, base.targets, base.warning_ratio)
        self.refresh()  # built with the app, outside any transaction

    # The base class reads self.calendar / self.targets; these keep them current.
    @property  # type: ignore[override]
    def calendar(self) -> BusinessCalendar:
        self._maybe_reload()
        return self._calendar

    @calendar.setter
    def calendar(self, value: BusinessCalendar) -> None:
        self._calendar = value

    @property  # type: ignore[override]
    def targets(self) -> dict[tuple[str | None, str], Target]:
        self._maybe_reload()
        return self._targets

    @targets.setter
    def targets(self, value: dict[tuple[str | None, str], Target]) -> None:
        self._targets = value

    @property
    def business_hours(self) -> str:
        """The business-hours spec in force (what the phone line reads out)."""
        self._maybe_reload()
        return self._hours

    def _maybe_reload(self) -> None:
        stale = time.monotonic() - self._loaded_at >= RELOAD_SECONDS
        if stale and self._reloading.acquire(blocking=False):
            threading.Thread(target=self._reload_in_background, daemon=True, name="sla-reload").start()

    def _reload_in_background(self) -> None:
        try:
            self.refresh()
        finally:
            self._reloading.release()

    def refresh(self) -> None:
        """Read the stored values now; keep the last good ones if they cannot be read."""
        with self._lock:
            self._loaded_at = time.monotonic()
            try:
                settings = effective_settings(self._settings, stored_settings(self._db))
                calendar = BusinessCalendar.from_settings(settings)
                targets = parse_targets(DEFAULT_TARGETS)
                targets.update(parse_targets(settings.sla_targets or DEFAULT_TARGETS))
            except (SQLAlchemyError, ValueError) as exc:
                # before `db upgrade` the table is missing; a bad row must not stop the desk
                if isinstance(exc, SQLAlchemyError) and not _has_table(self._db):
                    # a fresh install's first command (`helpdesk db upgrade` itself): nothing to
                    # warn about, the settings in force are the environment's
                    log.debug("no stored service settings yet: the schema is not created")
                    return
                log.warning("stored service settings not applied: %s", type(exc).__name__)
                return
            self._calendar, self._targets = calendar, targets
            self._hours = settings.business_hours
