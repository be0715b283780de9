"""Saved views: the built-in ones every agent has, and the ones an agent names and keeps."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from helpdesk.console.filters import Filters
from helpdesk.models import SavedView
from helpdesk.services import Services
from helpdesk.tickets import InvalidChange

MAX_VIEWS = 30
BUILT_IN = (
    (_l("My overdue"), {"mine": "1", "overdue": "1", "status": "active"}),
    (_l("Unassigned chat"), {"unassigned": "1", "channel": "chat", "status": "active"}),
)


@dataclass(frozen=True)
class View:
    id: int | None  # None: built in, cannot be deleted
    name: str
    args: dict[str, str]


def canonical_query(raw: str) -> dict[str, str]:
    """Only what the list understands, in its own words (no page: a view starts at the top)."""
    f = Filters.from_args(dict(parse_qsl(raw, keep_blank_values=True)))
    return f.query_string(page=1)


def list_views(svc: Services, agent_id: int) -> list[View]:
    views = [View(None, str(name), dict(args)) for name, args in BUILT_IN]
    with svc.db.session() as s:
        rows = s.scalars(select(SavedView).where(SavedView.agent_id == agent_id).order_by(SavedView.name))
        views += [View(v.id, v.name, canonical_query(v.query)) for v in rows]
    return views


def save_view(svc: Services, agent_id: int, name: str, raw_query: str) -> None:
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise InvalidChange(str(_l("Give the view a name of at most 80 characters.")))
    query = urlencode(canonical_query(raw_query))
    with svc.db.transaction() as s:
        count = s.scalar(select(func.count(SavedView.id)).where(SavedView.agent_id == agent_id)) or 0
        existing = s.scalar(select(SavedView).where(SavedView.agent_id == agent_id, SavedView.name == name))
        if existing is not None:
            existing.query = query  # saving under the same name replaces the view
            return
        if count >= MAX_VIEWS:
            raise InvalidChange(str(_l("You have too many saved views; delete one first.")))
        s.add(SavedView(agent_id=agent_id, name=name, query=query, created_at=svc.clock.now()))


def delete_view(svc: Services, agent_id: int, view_id: int) -> bool:
    with svc.db.transaction() as s:
        result = s.execute(delete(SavedView).where(SavedView.id == view_id, SavedView.agent_id == agent_id))
        return bool(getattr(result, "rowcount", 0))
