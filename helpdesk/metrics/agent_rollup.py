"""Per-agent figures over whole weeks, closed weeks from rollups (beside the weekly ones).

The medians of a range cannot be made from weekly medians, so a closed week stores, per agent,
the sorted first-response and resolution durations of its tickets and the sum and number of
their satisfaction scores; a range merges its weeks' lists and takes the nearest-rank median,
the same definition and the same numbers as `helpdesk.metrics.agents.agent_figures` (proved by
tests/supervisor/test_metrics_rollup.py). Stored weeks live in ``report_weeks`` under keys of
their own and follow the same validity rule as the weekly figures (``rollup.stored``): a week is
used only while no change its snapshot did not see overlaps it. Reassigning a ticket is such a
change (``assignee_id`` is one of the report columns in ``changes.py``).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.db import Database
from helpdesk.metrics.agents import AgentFigures, in_range, named_agents
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

PREFIX = "agents|"
# per agent id (a string: JSON keys): {"fr": sorted seconds, "res": sorted seconds, "cs": [sum, n]}
WeekParts = dict[str, dict[str, Any]]


def _week_parts(session: Session, dialect: str, week: Week, filters: Filters) -> WeekParts:
    t = Ticket.__table__.c
    base = filters.conditions()
    parts: WeekParts = {}

    def agent(agent_id: int) -> dict[str, Any]:
        return parts.setdefault(str(agent_id), {"fr": [], "res": [], "cs": [0, 0]})

    for at_column, name in ((t.first_response_at, "fr"), (t.resolved_at, "res")):
        secs = seconds_between(at_column, t.created_at, dialect)
        rows = session.execute(
            select(t.assignee_id, secs).where(*base, *in_range(at_column, week.start, week.end))
        )
        for agent_id, seconds in rows:
            agent(agent_id)[name].append(int(seconds))
    scores = session.execute(
        select(t.assignee_id, func.sum(t.csat_score), func.count(t.csat_score))
        .where(*base, *in_range(t.resolved_at, week.start, week.end), t.csat_score.is_not(None))
        .group_by(t.assignee_id)
    )
    for agent_id, total, count in scores:
        agent(agent_id)["cs"] = [int(total), int(count)]
    for values in parts.values():
        values["fr"].sort()
        values["res"].sort()
    return parts


def _median(lists: list[list[int]]) -> int | None:
    """Nearest-rank median (the smallest rank k with 2k >= n) of sorted lists taken together."""
    n = sum(len(values) for values in lists)
    if not n:
        return None
    rank = (n + 1) // 2
    merged = heapq.merge(*lists)
    for i, value in enumerate(merged, start=1):
        if i == rank:
            return value
    return None  # not reached


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
        every = [kept[k]["agents"] if k in kept else computed[i] for i, k in enumerate(keys)]
        with_figures = {int(a) for parts in every for a, v in parts.items() if v["fr"] or v["res"]}
        agents = named_agents(session, with_figures)
    fresh = [(weeks[i], keys[i], {"agents": computed[i]}) for i in computed if closed[i]]
    save(db, fresh, [k for k in keys if k in kept], seen)
    out = []
    for agent_id, name in agents:
        mine = [parts[str(agent_id)] for parts in every if str(agent_id) in parts]
        first = [v["fr"] for v in mine]
        resolved = [v["res"] for v in mine]
        score_sum = sum(v["cs"][0] for v in mine)
        scores = sum(v["cs"][1] for v in mine)
        out.append(
            AgentFigures(
                agent_id,
                name,
                handled=sum(len(r) for r in resolved),
                first_response_median_seconds=_median(first),
                first_responses=sum(len(f) for f in first),
                resolution_median_seconds=_median(resolved),
                csat=round(score_sum / scores, 2) if scores else None,
                csat_answers=scores,
            )
        )
    return out


def store_agent_weeks(
    db: Database, weeks: Sequence[Week], now: datetime, filters: Filters, limit: int | None = None
) -> tuple[int, int]:
    """`rollup.store_missing` for the per-agent parts: (weeks computed, weeks still missing).
    The stored lists are not read, only whether they are valid."""

    def compute(session: Session, todo: list[Week]) -> list[dict[str, Any]]:
        return [{"agents": _week_parts(session, db.dialect, week, filters)} for week in todo]

    return store_missing(
        db, weeks, now, lambda w: PREFIX + week_key(w, filters),
        lambda session, keys: valid_keys(session, db.dialect, keys), compute, limit,
    )
