"""Warming the weekly rollups: closed weeks computed and stored before a supervisor asks for them.

With no stored week (a new store, a deploy that changed what a week stores, weeks pruned after
`rollup.KEEP_CHANGES` changes nobody read them through) the dashboard recomputes every week from
the tickets: seconds at a million tickets. After a change to an old ticket the weeks it touched
are recomputed on the next read. `warm` does that work first, off the request: the dashboard's
weeks (newest first), then the rest of the last `weeks` closed weeks, for the unfiltered report
and the per-agent table. Each few weeks are read in their own snapshot and stored in their own
short write (on SQLite the write lock is held for one upsert, never for the seconds of reading;
WAL readers do not block writers). Weeks still valid are not recomputed, only moved forward.

`RollupWarmer` runs it when the worker (or the embedded server) starts and then every
``HELPDESK_METRICS_WARM_SECONDS``; ``helpdesk metrics warm`` runs it once (after ``db upgrade``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpdesk.background import BackgroundWorker
from helpdesk.db import Database
from helpdesk.metrics.agent_rollup import store_agent_weeks
from helpdesk.metrics.open_counts import compact
from helpdesk.metrics.report import DEFAULT_WEEKS
from helpdesk.metrics.rollup import store_closed
from helpdesk.metrics.weekly import Filters
from helpdesk.metrics.weeks import Week, last_weeks, previous, week_of
from helpdesk.models import Ticket

if TYPE_CHECKING:
    from helpdesk.services import Services

log = logging.getLogger(__name__)
WEEKS = 52  # a year of closed weeks: the longest report asked for often
CHUNK = 4  # weeks per read: a short snapshot each (~0.4 s at a million tickets on SQLite)


@dataclass
class WarmResult:
    weeks: int = 0  # weekly figures computed and stored
    agent_weeks: int = 0  # per-agent weeks computed and stored
    seconds: float = 0.0


def closed_weeks(now: datetime, tz: ZoneInfo, count: int) -> list[Week]:
    """The `count` complete weeks before the current one, oldest first."""
    current = week_of(now.astimezone(tz).date(), tz)
    return last_weeks(previous(current, tz).start, count, tz)


def warm(
    db: Database,
    now: datetime,
    tz: ZoneInfo,
    weeks: int = WEEKS,
    stopping: Callable[[], bool] = lambda: False,
) -> WarmResult:
    """Store every closed week of the last `weeks` (and the dashboard's per-agent weeks)."""
    started = time.perf_counter()
    result = WarmResult()
    compact(db)  # the console's open counts: one row per key again (a short write)
    with db.session() as session:
        if session.scalar(select(Ticket.id).limit(1)) is None:
            return result  # nothing to count yet
    newest_first = closed_weeks(now, tz, max(weeks, 1))[::-1]
    # The dashboard's weeks first (its 12 complete weeks and the one before, for the first
    # week's change), then its per-agent table, then the rest of the year.
    steps = (
        (store_closed, newest_first[: DEFAULT_WEEKS + 1], "weeks"),
        (store_agent_weeks, newest_first[:DEFAULT_WEEKS], "agent_weeks"),
        (store_closed, newest_first, "weeks"),
    )
    for store, span, figure in steps:
        # Bounded: writers may invalidate weeks as fast as they are stored; the next pass goes on.
        for _ in range(len(span) // CHUNK + 2):
            if stopping():
                break
            done, left = store(db, span, now, Filters(), CHUNK)
            setattr(result, figure, getattr(result, figure) + done)
            if not left:
                break
    result.seconds = time.perf_counter() - started
    return result


class RollupWarmer(BackgroundWorker):
    """A `BackgroundService` running `warm` at start and every `interval` seconds."""

    name = "metrics-warm"
    failure_message = "%s: warming the weekly figures failed; retrying at the next pass"

    def __init__(self, svc: Services, interval: float) -> None:
        super().__init__(interval)
        self.svc = svc

    def run_once(self) -> WarmResult:
        svc = self.svc
        result = warm(
            svc.db, svc.clock.now(), ZoneInfo(svc.settings.timezone), stopping=lambda: self.stopping
        )
        if result.weeks or result.agent_weeks:
            log.info(
                "weekly figures warmed: %d weeks, %d per-agent weeks in %.1f s",
                result.weeks,
                result.agent_weeks,
                result.seconds,
            )
        return result
