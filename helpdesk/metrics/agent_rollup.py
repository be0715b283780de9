"""Per-agent figures over whole weeks, closed weeks from rollups (beside the weekly ones).

The medians of a range cannot be made from weekly medians, so a closed week stores, per agent,
its tickets' first-response and resolution durations (sorted, packed: `helpdesk.metrics.packed`)
and the sum and number of their satisfaction scores; a range joins its weeks' durations and
takes the nearest-rank median, the same definition and the same numbers as
`helpdesk.metrics.agents.agent_figures` (proved by tests/supervisor/test_metrics_rollup.py).
Stored weeks live in ``report_weeks`` under keys of their own and follow the same validity rule
as the weekly figures (``rollup.stored``): a week is used only while no change its snapshot did
not see overlaps it. Reassigning a ticket is such a change (``assignee_id`` is one of the report
columns in ``changes.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from helpdesk.db import Database
from helpdesk.metrics.agents import AgentFigures, in_range, named_agents
from helpdesk.metrics.packed import EMPTY, Seconds, nearest_rank_median, pack, unpack
from helpdesk.metrics.rollup import (
    repeatable_read,
    save,
    snapshot,
    store_missing,
    stored,
    valid_keys,
    week_key,
)
from helpdesk.metrics.sql import seconds_between
from helpdesk.metrics.weekly import Filters
from helpdesk.metrics.weeks import Week
from helpdesk.models import Ticket

# Keys of the stored weeks. Rows under the old prefix ("agents|": the durations as JSON lists of
# numbers, slow to read back at a million tickets) are never read again: a deploy computes these
# afresh (the warm-up does, off the request), and the old rows go with the pruning of unread weeks.
PREFIX = "agent-weeks|"


@dataclass
class AgentWeek:
    """One agent's part of one week: durations in seconds (sorted) and the scores' sum and count."""

    first: Seconds = field(default_factory=lambda: EMPTY)
    resolved: Seconds = field(default_factory=lambda: EMPTY)
    score_sum: int = 0
    scores: int = 0

    def to_store(self) -> dict[str, Any]:
        return {"fr": pack(self.first), "res": pack(self.resolved), "cs": [self.score_sum, self.scores]}

    @classmethod
    def from_store(cls, data: dict[str, Any]) -> AgentWeek:
        return cls(unpack(data["fr"]), unpack(data["res"]), *data["cs"])


WeekParts = dict[int, AgentWeek]  # by agent id


def _durations(session: Session, dialect: str, at_column: Any, where: list[Any]) -> dict[int, Seconds]:
    """agent -> seconds from creation to `at_column`, sorted: one row per agent from the database
    (the week's numbers joined into one text, parsed by numpy), not one Python row per ticket."""
    t = Ticket.__table__.c
    secs = seconds_between(at_column, t.created_at, dialect)
    joined = (
        func.string_agg(cast(secs, Text), ",") if dialect == "postgresql" else func.group_concat(secs, ",")
    )
    rows = session.execute(select(t.assignee_id, joined).where(*where).group_by(t.assignee_id))
    return {agent_id: np.sort(np.fromstring(text, dtype=np.int64, sep=",")) for agent_id, text in rows}


def _week_parts(session: Session, dialect: str, week: Week, filters: Filters) -> WeekParts:
    t = Ticket.__table__.c
    base = filters.conditions()
    first = _durations(session, dialect, t.first_response_at,
                       [*base, *in_range(t.first_response_at, week.start, week.end)])
    resolved = _durations(session, dialect, t.resolved_at,
                          [*base, *in_range(t.resolved_at, week.start, week.end)])
    parts = {a: AgentWeek(first.get(a, EMPTY), resolved.get(a, EMPTY)) for a in first | resolved}
    scores = session.execute(
        select(t.assignee_id, func.sum(t.csat_score), func.count(t.csat_score))
        .where(*base, *in_range(t.resolved_at, week.start, week.end), t.csat_score.is_not(None))
        .group_by(t.assignee_id)
    )
    for agent_id, total, count in scores:
        part = parts.setdefault(agent_id, AgentWeek())
        part.score_sum, part.scores = int(total), int(count)
    return parts


def _to_store(parts: WeekParts) -> dict[str, Any]:
    return {"agents": {str(a): part.to_store() for a, part in parts.items()}}


def _from_store(data: dict[str, Any]) -> WeekParts:
    return {int(a): AgentWeek.from_store(part) for a, part in data["agents"].items()}


def agent_figures_by_weeks(
    db: Database, weeks: Sequence[Week], now: datetime, filters: Filters
) -> list[AgentFigures]:
    """`agent_figures(db, weeks[0].start, weeks[-1].end, filters)`, closed weeks from rollups."""
    keys = [PREFIX + week_key(week, filters) for week in weeks]
    closed = [week.end <= now for week in weeks]
    with db.session() as session:
        repeatable_read(session, db.dialect)
        seen = snapshot(session, db.dialect)
        kept = stored(session, db.dialect, [k for k, done in zip(keys, closed, strict=True) if done])
        computed = {
            i: _week_parts(session, db.dialect, week, filters)
            for i, week in enumerate(weeks)
            if keys[i] not in kept
        }
        every = [_from_store(kept[k]) if k in kept else computed[i] for i, k in enumerate(keys)]
        with_figures = {a for parts in every for a, v in parts.items() if len(v.first) or len(v.resolved)}
        agents = named_agents(session, with_figures)
    fresh = [(weeks[i], keys[i], _to_store(computed[i])) for i in computed if closed[i]]
    save(db, fresh, [k for k in keys if k in kept], seen)
    out = []
    for agent_id, name in agents:
        mine = [parts[agent_id] for parts in every if agent_id in parts]
        first = [v.first for v in mine]
        resolved = [v.resolved for v in mine]
        score_sum = sum(v.score_sum for v in mine)
        scores = sum(v.scores for v in mine)
        out.append(
            AgentFigures(
                agent_id,
                name,
                handled=sum(len(r) for r in resolved),
                first_response_median_seconds=nearest_rank_median(first),
                first_responses=sum(len(f) for f in first),
                resolution_median_seconds=nearest_rank_median(resolved),
                csat=round(score_sum / scores, 2) if scores else None,
                csat_answers=scores,
            )
        )
    return out


def store_agent_weeks(
    db: Database, weeks: Sequence[Week], now: datetime, filters: Filters, limit: int | None = None
) -> tuple[int, int]:
    """`rollup.store_missing` for the per-agent parts: (weeks computed, weeks still missing).
    The stored durations are not read, only whether they are valid."""

    def compute(session: Session, todo: list[Week]) -> list[dict[str, Any]]:
        return [_to_store(_week_parts(session, db.dialect, week, filters)) for week in todo]

    return store_missing(
        db, weeks, now, lambda w: PREFIX + week_key(w, filters),
        lambda session, keys: valid_keys(session, db.dialect, keys), compute, limit,
    )
