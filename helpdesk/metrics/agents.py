"""Per-agent figures for a range of weeks, each one grouped SQL query (SQLite and PostgreSQL).

Definitions (a ticket counts for the agent it is assigned to when the report runs; merged
tickets are left out, as in the weekly figures):

* **handled** — tickets resolved in the range.
* **first response** — tickets first answered in the range: nearest-rank median of the seconds
  from creation to that answer (wall clock, what the citizen waited).
* **resolution** — tickets resolved in the range: nearest-rank median of creation to resolution.
* **satisfaction** — mean score (1-5) and number of ratings of tickets resolved in the range.

The medians use row_number() over a window partitioned by agent, which both databases run in one
statement; this module is apart from the weekly rollups so either can change alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from helpdesk.db import Database
from helpdesk.metrics.sql import seconds_between
from helpdesk.metrics.weekly import Filters
from helpdesk.models import Agent, Ticket, queue_members


@dataclass
class AgentFigures:
    agent_id: int
    name: str
    handled: int = 0
    first_response_median_seconds: int | None = None
    first_responses: int = 0
    resolution_median_seconds: int | None = None
    csat: float | None = None
    csat_answers: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id, "name": self.name, "handled": self.handled,
            "first_response_median_seconds": self.first_response_median_seconds,
            "first_responses": self.first_responses,
            "resolution_median_seconds": self.resolution_median_seconds,
            "csat": self.csat, "csat_answers": self.csat_answers,
        }


def in_range(column: Any, start: datetime, end: datetime) -> list[Any]:
    return [column >= start, column < end, Ticket.__table__.c.assignee_id.is_not(None)]


def _handled(s: Session, where: list[Any]) -> dict[int, int]:
    t = Ticket.__table__.c
    rows = s.execute(select(t.assignee_id, func.count()).where(*where).group_by(t.assignee_id))
    return {agent: n for agent, n in rows}


def _medians(s: Session, dialect: str, at_column: Any, where: list[Any]) -> dict[int, tuple[int, int]]:
    """agent -> (nearest-rank median seconds from creation to `at_column`, count)."""
    t = Ticket.__table__.c
    secs = seconds_between(at_column, t.created_at, dialect)
    ranked = select(
        t.assignee_id.label("agent"),
        secs.label("secs"),
        func.row_number().over(partition_by=t.assignee_id, order_by=secs).label("rn"),
        func.count().over(partition_by=t.assignee_id).label("n"),
    ).where(*where).subquery("ranked")
    r = ranked.c
    stmt = select(r.agent, func.min(case((r.rn * 2 >= r.n, r.secs))), func.max(r.n)).group_by(r.agent)
    return {agent: (int(median), int(n)) for agent, median, n in s.execute(stmt)}


def _satisfaction(s: Session, where: list[Any]) -> dict[int, tuple[float, int]]:
    t = Ticket.__table__.c
    rows = s.execute(
        select(t.assignee_id, func.avg(t.csat_score), func.count(t.csat_score))
        .where(*where, t.csat_score.is_not(None))
        .group_by(t.assignee_id)
    )
    return {agent: (round(float(avg), 2), int(n)) for agent, avg, n in rows}


def named_agents(s: Session, with_figures: set[int]) -> list[tuple[int, str]]:
    """(id, name) of the agents with figures and of the active ones who work a queue, by name."""
    working = select(queue_members.c.agent_id)
    agents = s.execute(
        select(Agent.id, Agent.name).where(
            Agent.id.in_(with_figures) | (Agent.active.is_(True) & Agent.id.in_(working))
        )
    ).all()
    return [(a, n) for a, n in sorted(agents, key=lambda a: (a[1].casefold(), a[0]))]


def agent_figures(
    db: Database, start: datetime, end: datetime, filters: Filters | None = None
) -> list[AgentFigures]:
    """One row per agent who has figures in [start, end) or works a queue, sorted by name."""
    t = Ticket.__table__.c
    base = (filters or Filters()).conditions()
    resolved = [*base, *in_range(t.resolved_at, start, end)]
    with db.session() as s:
        handled = _handled(s, resolved)
        first = _medians(s, db.dialect, t.first_response_at,
                         [*base, *in_range(t.first_response_at, start, end)])
        resolution = _medians(s, db.dialect, t.resolved_at, resolved)
        csat = _satisfaction(s, resolved)
        agents = named_agents(s, set(handled) | set(first) | set(csat))
    out = []
    for agent_id, name in agents:
        fr, res, sat = first.get(agent_id), resolution.get(agent_id), csat.get(agent_id)
        out.append(AgentFigures(
            agent_id, name, handled.get(agent_id, 0),
            fr[0] if fr else None, fr[1] if fr else 0,
            res[0] if res else None,
            sat[0] if sat else None, sat[1] if sat else 0,
        ))
    return out
