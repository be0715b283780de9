"""The console's ticket list of a view (``filters.Filters``): search, sorting and pages, with the true total.

The default order is the SLA deadline the ticket is racing now (first response until answered,
then resolution), soonest first, so overdue tickets lead the list and tickets with no deadline
trail it. A search without an explicit sort keeps the search's own rank.

On a big store (issue 14) a view of every status or of closed tickets holds nearly every
ticket: its page is read in due order from an index (``helpdesk.models.list_indexes``), only
the page's ids are sorted and cut before the rows and names are read, and its total is counted
up to ``COUNT_CAP`` ("more than 10,000"), with pages through that many; such a view sorts only
by the orders an index gives (``INDEXED_SORTS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from helpdesk.access import Viewer, sees, ticket_filter
from helpdesk.console.filters import Filters
from helpdesk.console.search import ranked_ticket_ids
from helpdesk.metrics.open_counts import read_open_counts
from helpdesk.models import OPEN_STATUSES, PRIORITIES, STATUSES, Agent, Contact, Ticket
from helpdesk.models.list_indexes import due_now, due_order
from helpdesk.models.planner_hints import rarely, unindexed
from helpdesk.services import Services
from helpdesk.sla import sla_fields
from helpdesk.ticket_search import SEARCH_INCOMPLETE

PER_PAGE = 50
# A view's total is counted up to this many tickets; past it the list says "more than 10,000"
# and pages through the first 10,000 (200 pages): counting a million tickets cost more than the
# page itself, and an OFFSET that deep costs as much again. Views of open tickets (their totals
# summed from the kept counts) keep their exact totals and every page.
COUNT_CAP = 10_000
# A queue's page past the cap is found by walking the due index up to this deep (pages 1-20 of
# 50) on SQLite; deeper, the queue's ids are sorted (``_walks_due_index``).
WALK_DUE_ROWS = 1_000
# The orders an index gives a view of any size: due time (``ix_tickets_due_order``,
# ``…status_due_order``) and the reference (the primary key). The other columns sort the whole
# view, so a view past COUNT_CAP (up to a million tickets: 0.3-1.7 s at a million) is shown in
# due order instead, saying so (``ListPage.refused_sort``); under the cap they sort as asked.
# An index per column would be paid by every ticket write (bench/README.md, helper consolesorts).
INDEXED_SORTS = ("due", "reference")
NULLABLE_SORTS = ("due", "assignee")  # the others' keys are never NULL (columns NOT NULL, CASE … ELSE)


def due_column() -> ColumnElement[Any]:
    """The deadline the ticket is racing now, in SQL (the same rule as sla.next_due)."""
    return due_now()


def _big_view(f: Filters) -> bool:
    """A view that holds done tickets (every status, resolved, closed): on a big store nearly every
    ticket. Its total is counted up to COUNT_CAP; a view of open tickets only is counted whole:
    they are a few thousand however big the store, and their count reads an index, where a
    count cut at the cap let SQLite's planner scan the table for the first 10,001 (a second)."""
    return f.status in ("", "resolved", "closed")


def _indexed_due(f: Filters) -> bool:
    """Whether the view is sorted by due time as ``ix_tickets_due_order`` / ``…status_due_order``
    hold it: views of every status or of one status. Views of the open statuses together (the
    default, overdue) sort their few thousand tickets instead (``list_indexes`` says why)."""
    return f.status != "active" and not f.overdue


def _sort_key(name: str, f: Filters | None = None) -> ColumnElement[Any]:
    if name == "priority":  # urgent is "highest", not alphabetical
        return case({p: i for i, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=-1)
    if name == "status":
        return case({s: i for i, s in enumerate(STATUSES)}, value=Ticket.status, else_=99)
    columns: dict[str, Any] = {
        "due": due_order() if f is not None and _indexed_due(f) else due_column(),
        "reference": Ticket.id,  # references grow with ids; the number sorts, not the text
        "subject": func.lower(Ticket.subject),
        "channel": Ticket.channel,
        "queue": Ticket.queue,
        "assignee": func.lower(Agent.name),
        "updated": Ticket.updated_at,
    }
    column: ColumnElement[Any] = columns[name]
    return column


@dataclass(frozen=True)
class ListPage:
    tickets: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    incomplete: bool = False  # a search whose older matches were cut off (ticket_search)
    capped: bool = False  # more than ``total`` (COUNT_CAP) tickets: pages through that many
    # The sort column asked for but not used: a capped view is shown in due order instead
    # (INDEXED_SORTS says why); the view's links then leave the sort out.
    refused_sort: str = ""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def _conditions(
    viewer: Viewer, f: Filters, now: datetime, walk_due: bool = False, one_status: str = ""
) -> list[ColumnElement[bool]]:
    """The view's WHERE; with ``one_status``, that open status stands for the open ones (an arm
    of ``_merged_statuses``)."""
    where: list[ColumnElement[bool]] = [ticket_filter(viewer), Ticket.merged_into_id.is_(None)]
    open_only = Ticket.status == one_status if one_status else rarely(Ticket.status.in_(OPEN_STATUSES))
    if f.mine:
        where.append(Ticket.assignee_id == viewer.id)
    if f.unassigned:
        where.append(Ticket.assignee_id.is_(None))
    if f.overdue:
        where.append(open_only)
        where.append(or_(Ticket.sla_breached_at.is_not(None), due_column() < now))
    if f.status == "active":
        where.append(open_only)
    elif f.status in OPEN_STATUSES:
        where.append(rarely(Ticket.status == f.status))
    elif f.status:
        where.append(Ticket.status == f.status)
    if f.channel:
        where.append(Ticket.channel == f.channel)
    if f.category:
        where.append(Ticket.category == f.category)
    if f.queue:
        where.append((unindexed(Ticket.queue) if walk_due else Ticket.queue) == f.queue)
    return where


def _kept_total(svc: Services, viewer: Viewer, f: Filters) -> int | None:
    """The total of an open-tickets view filtered only by queue, mine or unassigned, summed from
    the kept counts (``helpdesk.metrics.open_counts``, the same tickets: open, not merged away)
    instead of counted; None for any other view."""
    if f.status != "active" or f.q or f.overdue or f.channel or f.category:
        return None
    total = 0
    for (queue, assignee_id), n in read_open_counts(svc.db).items():
        if (
            sees(viewer, queue, assignee_id)
            and (not f.queue or queue == f.queue)
            and (not f.mine or assignee_id == viewer.id)
            and (not f.unassigned or assignee_id is None)
        ):
            total += n
    return total


def _counted_total(s: Session, where: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """The view's total counted up to COUNT_CAP + 1 tickets: (total, capped), COUNT_CAP when more."""
    matched = select(Ticket.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = s.scalar(select(func.count()).select_from(matched)) or 0
    return (COUNT_CAP, True) if total > COUNT_CAP else (total, False)


def _dated_then_undated(where: list[ColumnElement[bool]], limit: int, offset: int) -> Select[Any]:
    """A page of the indexed due order, latest deadline first and tickets without one last, for
    PostgreSQL: it reads an ascending index backwards only as DESC NULLS FIRST, so the one
    statement (DESC NULLS LAST) sorted every deadline of the view: 430 ms at a million. Here the
    tickets with a deadline come from the index read backwards and those without one by id,
    each cut at the page's end, and only those (at most twice offset + limit) are merged."""
    key = due_order()
    dated = (
        select(Ticket.id.label("id"), literal(0).label("part"), key.label("due"))
        .where(*where, key.is_not(None))
        .order_by(key.desc(), Ticket.id.desc())  # DESC: NULLS FIRST, the backward read; none here
        .limit(offset + limit)
        .subquery()
    )
    undated = (
        select(Ticket.id.label("id"), literal(1).label("part"), key.label("due"))
        .where(*where, key.is_(None))
        .order_by(Ticket.id.desc())
        .limit(offset + limit)
        .subquery()
    )
    both = union_all(select(dated), select(undated)).subquery()
    return (
        select(both.c.id)
        .order_by(both.c.part, both.c.due.desc(), both.c.id.desc())
        .limit(limit)
        .offset(offset)
    )


def _merges_statuses(dialect: str, f: Filters, rows: int) -> bool:
    """Whether a page of the open tickets in due order is read as ``_merged_statuses``: soonest
    first, not a search, nor one agent's or one queue's tickets: those few are found by their
    own indexes (…assignee_status, …queue_status) and sorted, where a walk in due order may pass
    most open tickets to find them (an agent's are answered, due late: 6 ms sorted, 170 ms
    walked). PostgreSQL merges the walks as it reads them, so any page; SQLite sorts what each
    walk gives, so only the first WALK_DUE_ROWS rows (pages 1-20), as for a queue."""
    open_view = f.status == "active" or (f.overdue and not f.status)
    narrow = f.mine or f.queue or f.q
    if not open_view or narrow or f.effective_sort != "due" or f.dir != "asc":
        return False
    return dialect == "postgresql" or rows <= WALK_DUE_ROWS


def _merged_statuses(arms: list[list[ColumnElement[bool]]], limit: int, offset: int) -> Select[Any]:
    """A page of the open tickets soonest due first: one walk of ``ix_tickets_status_due_order``
    per open status (``arms``: each one's WHERE), cut at the page's end and merged. No planner
    walks that index for the three statuses at once, so the one statement read every open
    ticket to sort them: on PostgreSQL 30,000 rows scattered over 21,000 pages of a million
    tickets, 80-130 ms; the walks read the page's rows and a few more (1 ms). The same order:
    the due time, then the newest ticket first (each walk sorts the ids within a deadline)."""
    key = due_order()
    walks = [
        select(Ticket.id.label("id"), key.label("due"))
        .where(*where)
        # NULLS LAST: PostgreSQL's ascending index order; SQLite's index holds NULLs first and
        # reads them after the rest (bench_list's plans: the index, no sort of the status).
        .order_by(key.asc().nulls_last(), Ticket.id.desc())
        .limit(offset + limit)
        .subquery()
        for where in arms
    ]
    merged = union_all(*(select(walk) for walk in walks)).subquery()
    return (
        select(merged.c.id)
        .order_by(merged.c.due.asc().nulls_last(), merged.c.id.desc())
        .limit(limit)
        .offset(offset)
    )


def page_ids_statement(
    f: Filters, where: list[ColumnElement[bool]], limit: int, offset: int, dialect: str = "sqlite"
) -> Select[Any]:
    """The ids of a page in list order. Only the ids and the sort key are sorted (the rows and
    their names are read for these ids afterwards): a view of a million tickets sorted whole
    rows joined to their agents and contacts before it cut its page."""
    if dialect == "postgresql" and f.effective_sort == "due" and f.dir == "desc" and _indexed_due(f):
        return _dated_then_undated(where, limit, offset)
    stmt = select(Ticket.id).where(*where)
    sort = f.effective_sort
    if sort == "assignee":
        stmt = stmt.outerjoin(Agent, Agent.id == Ticket.assignee_id)
    if sort:
        key = _sort_key(sort, f)
        ordered_by = key.desc() if f.dir == "desc" else key.asc()
        if sort in NULLABLE_SORTS:
            # Tickets without a value (no deadline, nobody assigned) go last in either direction.
            # Only there: PostgreSQL reads an index backwards as DESC NULLS FIRST, so a NULLS
            # LAST on a column that is never NULL (the reference's id) kept it from the index.
            ordered_by = ordered_by.nulls_last()
        stmt = stmt.order_by(ordered_by, Ticket.id.desc())
    return stmt.limit(limit).offset(offset)


def _walks_due_index(svc: Services, f: Filters, capped: bool, rows: int) -> bool:
    """Whether a queue's page is read by walking the due index on SQLite (``unindexed``): only
    past the cap (more than 10,000 of the queue's tickets match, so at least one entry in a
    hundred) and for the first WALK_DUE_ROWS rows, where the walk passes at most a hundred times
    that many entries; deeper pages sort the queue's ids as before."""
    return (
        svc.db.dialect == "sqlite"
        and capped
        and bool(f.queue)
        and not f.q
        and f.effective_sort == "due"
        and _indexed_due(f)
        and rows <= WALK_DUE_ROWS
    )


class _Cut(NamedTuple):
    """Which tickets a page shows, in order, and what the page says about its view."""

    shown: list[int]
    total: int
    page: int
    capped: bool = False
    refused_sort: str = ""


def _in_rank_order(
    s: Session, ranked: list[int], where: list[ColumnElement[bool]], f: Filters, per_page: int
) -> _Cut:
    """A search in its own rank order: which of the (at most a few hundred) ranked ids this viewer
    and these filters keep is one indexed lookup, and the page is cut here; a CASE over every
    ranked id in ORDER BY cost more to build than the search itself."""
    kept = set(s.scalars(select(Ticket.id).where(*where)))
    ordered = [tid for tid in ranked if tid in kept]
    page = min(f.page, max(1, math.ceil(len(ordered) / per_page)))
    return _Cut(ordered[(page - 1) * per_page : page * per_page], len(ordered), page)


def _in_view_order(
    svc: Services,
    s: Session,
    viewer: Viewer,
    f: Filters,
    now: datetime,
    where: list[ColumnElement[bool]],
    per_page: int,
    kept_total: int | None,
) -> _Cut:
    """A page in the view's sort order, with its total kept (``_kept_total``), capped or counted."""
    capped = False
    if kept_total is not None:
        total = kept_total
    elif _big_view(f):
        total, capped = _counted_total(s, where)
    else:
        # count(*), not count(id): PostgreSQL counts from an index that holds the filtered
        # columns (ix_tickets_open_counts) without reading rows; count(id) read the 30,000
        # new tickets' rows of a million (410 ms; 12 ms so).
        total = s.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    refused_sort = ""
    if capped and f.effective_sort not in INDEXED_SORTS:
        refused_sort = f.effective_sort
        f = replace(f, sort="", dir="asc")
    page = min(f.page, max(1, math.ceil(total / per_page)))
    offset = (page - 1) * per_page
    # A capped view's last page stops at the cap, as its "showing …" says.
    limit = min(per_page, total - offset) if capped else per_page
    if _walks_due_index(svc, f, capped, offset + limit):
        where = _conditions(viewer, f, now, walk_due=True)
    if _merges_statuses(svc.db.dialect, f, offset + limit):
        arms = [_conditions(viewer, f, now, one_status=status) for status in OPEN_STATUSES]
        stmt = _merged_statuses(arms, limit, offset)
    else:
        stmt = page_ids_statement(f, where, limit, offset, svc.db.dialect)
    shown = list(s.scalars(stmt))
    return _Cut(shown, total, page, capped, refused_sort)


def _rows(s: Session, shown: list[int]) -> list[Any]:
    """The shown tickets with their assignee's and contact's names (joined: no lazy load per row)."""
    if not shown:
        return []
    stmt = (
        select(Ticket, Agent.name, Contact.name)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
        .where(Ticket.id.in_(shown))
    )
    found = {row[0].id: row for row in s.execute(stmt).all()}
    return [found[tid] for tid in shown if tid in found]


def list_page(svc: Services, viewer: Viewer, f: Filters, per_page: int | None = None) -> ListPage:
    per_page = per_page or PER_PAGE
    now = svc.clock.now()  # one instant for the whole page, so rows agree with each other
    where = _conditions(viewer, f, now)
    incomplete = False
    kept_total = _kept_total(svc, viewer, f)
    with svc.db.session() as s:
        ranked: list[int] = []
        if f.q:
            ranked = ranked_ticket_ids(s, f.q)
            incomplete = bool(s.info.get(SEARCH_INCOMPLETE))
            where.append(Ticket.id.in_(ranked) if ranked else Ticket.id.is_(None))
        if ranked and not f.effective_sort:
            cut = _in_rank_order(s, ranked, where, f, per_page)
        else:
            cut = _in_view_order(svc, s, viewer, f, now, where, per_page, kept_total)
        rows = _rows(s, cut.shown)
        tickets = [
            {
                "reference": t.reference,
                "subject": t.subject,
                "status": t.status,
                "priority": t.priority,
                "channel": t.channel,
                "category": t.category,
                "queue": t.queue,
                "assignee": name,
                "contact": contact,
                "updated_at": t.updated_at,
                "resolution_due_at": t.resolution_due_at,
                **sla_fields(svc, t, now),  # sla_state / sla_css / sla_due_at: the deadline badge
                "due_at": _due(t),
            }
            for t, name, contact in rows
        ]
    return ListPage(tickets, cut.total, cut.page, per_page, incomplete, cut.capped, cut.refused_sort)


def _due(t: Ticket) -> datetime | None:
    from helpdesk.sla.state import next_due

    due = next_due(t)
    return due[1] if due else None
